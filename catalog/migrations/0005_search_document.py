"""PostgreSQL: keep each product's weighted search document in a stored generated column.

Ranking a few hundred candidates with ts_rank was dominated by rebuilding their
tsvectors from the descriptions on every search; stored, the rank is a cheap read.
The model does not declare the column (SQLite has no tsvector); catalog.selectors reads
it through RawSQL on PostgreSQL only. It replaces the expression index of 0003.
"""

from django.db import migrations

from config.db import postgres_only

FORWARD = [
    """ALTER TABLE catalog_product ADD COLUMN IF NOT EXISTS search_document tsvector
        GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B')
        ) STORED""",
    "CREATE INDEX IF NOT EXISTS catalog_product_search_document ON catalog_product "
    "USING gin (search_document)",
    "DROP INDEX IF EXISTS catalog_product_fts",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_product_search_document",
    "ALTER TABLE catalog_product DROP COLUMN IF EXISTS search_document",
]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_product_import")]

    operations = [postgres_only(FORWARD, BACKWARD)]
