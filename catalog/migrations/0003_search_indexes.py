"""PostgreSQL search indexes: weighted full-text (title over description) and trigram on
titles for typos. SQLite has neither; catalog.selectors falls back to a plain search there.

(0005 replaces the full-text expression index with a stored column and its index.)
"""

from django.db import migrations

from config.db import postgres_only

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX IF NOT EXISTS catalog_product_fts ON catalog_product USING gin ((
        setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B')
    ))""",
    "CREATE INDEX IF NOT EXISTS catalog_product_title_trgm ON catalog_product "
    "USING gin (title gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_product_title_trgm",
    "DROP INDEX IF EXISTS catalog_product_fts",
]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_catalog")]

    operations = [postgres_only(FORWARD, BACKWARD)]
