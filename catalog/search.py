"""Upkeep of the search vocabulary used to correct typos (PostgreSQL only)."""

from __future__ import annotations

from django.db import connection


def search_words_refresh() -> bool:
    """Rebuild the vocabulary from the active products' titles; False on SQLite.

    CONCURRENTLY: searches keep reading the old vocabulary while the new one is built.
    """
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY catalog_search_word")
    return True
