"""PostgreSQL: a stored, indexed tsvector of the title alone.

Search takes its bounded candidates from title matches first, so on a broad word
("lamp" in 4,000 products) a product named after it is never cut in favour of one that
only mentions it; ranking every match instead cost 50 ms at 100,000 products.
"""

from django.db import migrations

from config.db import postgres_only

FORWARD = [
    """ALTER TABLE catalog_product ADD COLUMN IF NOT EXISTS title_document tsvector
        GENERATED ALWAYS AS (to_tsvector('english'::regconfig, COALESCE(title, ''))) STORED""",
    "CREATE INDEX IF NOT EXISTS catalog_product_title_document ON catalog_product "
    "USING gin (title_document)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_product_title_document",
    "ALTER TABLE catalog_product DROP COLUMN IF EXISTS title_document",
]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_variant_sku_case_insensitive")]

    operations = [postgres_only(FORWARD, BACKWARD)]
