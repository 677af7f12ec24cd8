from django.core.management.base import BaseCommand, CommandParser

from inventory.stock_csv import stock_csv_export


class Command(BaseCommand):
    help = "Export stock levels as CSV (the columns import_stock reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="A file to write; standard output by default.")

    def handle(self, *args: object, **options: object) -> None:
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.writelines(stock_csv_export())
        else:
            for line in stock_csv_export():
                self.stdout.write(line, ending="")
