"""PostgreSQL: the vocabulary of product titles, for correcting typos in searches.

Trigram matching over every title gets slow as the catalog grows (80 ms at 100,000
products); over the distinct words of the titles it stays around a millisecond. The
corrected words then go through the full-text index like any search. Refreshed by
catalog.search.search_words_refresh (beat, and after imports).
"""

from django.db import migrations

from config.db import postgres_only

FORWARD = [
    """CREATE MATERIALIZED VIEW IF NOT EXISTS catalog_search_word AS
        SELECT word FROM ts_stat(
            'SELECT to_tsvector(''simple'', title) FROM catalog_product WHERE status = ''active'''
        )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS catalog_search_word_word ON catalog_search_word (word)",
    "CREATE INDEX IF NOT EXISTS catalog_search_word_trgm ON catalog_search_word "
    "USING gin (word gin_trgm_ops)",
]
BACKWARD = ["DROP MATERIALIZED VIEW IF EXISTS catalog_search_word"]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_search_document")]

    operations = [postgres_only(FORWARD, BACKWARD)]
