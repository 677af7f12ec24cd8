"""Import products and variants from a CSV file: `manage.py import_products FILE [--dry-run]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from catalog.csv_io import ImportResult, products_csv_parse, products_import
from catalog.services import CatalogError

# Files shorter than this finish before a progress line would help.
PROGRESS_FROM = 1000


class Command(BaseCommand):
    help = (
        "Import products and variants from a CSV file, one row per variant. Every row is "
        "checked first; a file with any bad row changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path of a UTF-8 CSV file with a header row.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and count what would change, then write nothing.",
        )

    def handle(self, *args: object, **options: object) -> None:
        path, dry_run = options["file"], options["dry_run"]
        try:
            with open(path, "rb") as file:
                plan = products_csv_parse(file=file)
        except OSError as err:
            raise CommandError(f"Cannot read {path}: {err.strerror}.") from None
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(str(error))
            lines = sorted({error.line for error in plan.errors if error.line})
            where = f" (lines {', '.join(map(str, lines))})" if lines else ""
            raise CommandError(
                f"{path} has {len(plan.errors)} errors{where}; nothing was imported."
            )
        try:
            with transaction.atomic():
                result = products_import(plan=plan, progress=self._progress)
                if dry_run:
                    transaction.set_rollback(True)
        except CatalogError as err:
            # The database changed between the check and the write (a SKU taken meanwhile).
            raise CommandError(f"Nothing was imported: {err}") from None
        summary = _summary(result)
        if dry_run:
            self.stdout.write(f"Dry run, nothing was written. The file would give: {summary}")
        else:
            self.stdout.write(self.style.SUCCESS(summary))

    def _progress(self, done: int, total: int) -> None:
        if total >= PROGRESS_FROM and (done % PROGRESS_FROM == 0 or done == total):
            self.stdout.write(f"{done} of {total} rows…")


def _summary(result: ImportResult) -> str:
    return (
        f"Products: {result.products_created} created, {result.products_updated} updated, "
        f"{result.products_unchanged} unchanged. "
        f"Variants: {result.variants_created} created, {result.variants_updated} updated, "
        f"{result.variants_unchanged} unchanged. Tags: {result.tags_created} created."
    )
