"""Export products and variants as CSV: `manage.py export_products [--output FILE]`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.csv_io import products_csv_export
from catalog.models import Product
from catalog.services import CatalogError


class Command(BaseCommand):
    help = "Write every product and variant as CSV, one row per variant, in the import's columns."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, *args: object, **options: object) -> None:
        output = options["output"]
        records = products_csv_export()
        try:
            if output:
                rows = self._write_file(Path(output), records)
            else:
                rows = 0
                for record in records:
                    self.stdout.write(record, ending="")
                    rows += 1
        except CatalogError as err:
            raise CommandError(str(err)) from None
        except OSError as err:
            raise CommandError(f"Cannot write {output}: {err.strerror}.") from None
        empty = Product.objects.filter(variants__isnull=True).count()
        if empty:
            self.stderr.write(
                f"{empty} products without variants were left out: a row needs a SKU and a price.",
                style_func=self.style.WARNING,
            )
        if output:
            self.stdout.write(self.style.SUCCESS(f"Wrote {max(rows - 1, 0)} variants to {output}."))

    def _write_file(self, path: Path, records: Iterable[str]) -> int:
        # A half-written export must not replace a good file: write aside, then rename.
        partial = path.with_name(path.name + ".part")
        rows = 0
        try:
            with partial.open("w", encoding="utf-8", newline="") as file:
                for record in records:
                    file.write(record)
                    rows += 1
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return rows
