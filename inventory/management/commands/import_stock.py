from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.services import InventoryError
from inventory.stock_csv import stock_csv_import, stock_csv_parse


class Command(BaseCommand):
    help = "Import stock counts, bins and reorder settings from CSV; all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file, change nothing."
        )

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no file at {path}.")
        plan = stock_csv_parse(data=path.read_bytes())
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(error)
            raise CommandError(f"{path.name} has {len(plan.errors)} errors; nothing was imported.")
        if options["dry_run"]:
            self.stdout.write(f"{len(plan.rows)} rows are fine; nothing was changed (dry run).")
            return
        try:
            result = stock_csv_import(plan=plan)
        except InventoryError as err:
            raise CommandError(f"{err} Nothing was imported.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['counted']} counts recorded, {result['unchanged']} unchanged."
            )
        )
