"""Database helpers every app's migrations may use."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations


def postgres_only(forward: Sequence[str], backward: Sequence[str]) -> migrations.RunPython:
    """A migration step of raw SQL that runs on PostgreSQL and is skipped on SQLite, for
    what SQLite lacks (tsvector, pg_trgm, materialized views)."""

    def run(statements: Sequence[str]):
        def apply(apps: object, schema_editor) -> None:
            if schema_editor.connection.vendor != "postgresql":
                return
            for statement in statements:
                schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(forward), run(backward))
