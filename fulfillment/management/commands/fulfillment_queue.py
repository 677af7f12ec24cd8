"""Print (or export as CSV) the day's fulfillment queue of one warehouse."""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.csvsafe import defused_row
from fulfillment.selectors import fulfillment_queue
from inventory.models import Warehouse

COLUMNS = ["order", "paid_at", "ship_by", "units", "shipping", "status", "hold_reason"]


class Command(BaseCommand):
    help = "The orders due to ship today (or late) from a warehouse, oldest payment first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--warehouse", required=True, help="Warehouse code, e.g. main")
        parser.add_argument("--csv", action="store_true", help="Write CSV instead of a table")
        parser.add_argument(
            "--all", action="store_true", help="Also orders due on later days (paid after cut-off)"
        )

    def handle(self, *args: object, **options: object) -> None:
        warehouse = Warehouse.objects.filter(code=options["warehouse"]).first()
        if warehouse is None:
            codes = ", ".join(Warehouse.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"No warehouse {options['warehouse']!r}; there are: {codes}.")
        rows = fulfillment_queue(warehouse=warehouse)
        if not options["all"]:
            rows = [row for row in rows if row.due_today]
        records = [
            [
                row.order.number,
                timezone.localtime(row.order.paid_at).strftime("%Y-%m-%d %H:%M"),
                row.ship_by.isoformat(),
                row.units,
                row.order.shipping_method_name,
                "on hold" if row.held else ("late" if row.late else "due"),
                row.order.hold_reason if row.held else "",
            ]
            for row in rows
        ]
        if options["csv"]:
            writer = csv.writer(self.stdout)
            writer.writerow(COLUMNS)
            writer.writerows(defused_row(record) for record in records)
            return
        self.stdout.write(
            f"{warehouse.name} ({warehouse.code}) · {timezone.localdate():%a %d %b %Y} · "
            f"{len(records)} order(s)"
        )
        for record in records:
            hold = f"  [{record[6]}]" if record[6] else ""
            self.stdout.write(
                f"{record[0]:>8}  paid {record[1]}  ship by {record[2]}  {record[3]:>3} units  "
                f"{record[5]:<7} {record[4]}{hold}"
            )
