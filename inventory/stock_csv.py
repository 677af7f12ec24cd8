"""Stock levels as CSV: one row per variant and warehouse.

Columns: sku, warehouse, on_hand, bin_location, reorder_point, safety_stock,
reorder_quantity. An import checks every row first and reports each bad one with its line
number; any bad row and nothing changes. on_hand is what was counted: the difference from
the books goes to the ledger as a "count" movement.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from catalog.models import Variant
from config.csvsafe import defused_row, restore
from inventory.models import StockLevel, Warehouse
from inventory.services import InventoryError, lock_stock, stock_count_set

COLUMNS = [
    "sku",
    "warehouse",
    "on_hand",
    "bin_location",
    "reorder_point",
    "safety_stock",
    "reorder_quantity",
]
NUMBERS = ["on_hand", "reorder_point", "safety_stock", "reorder_quantity"]
MAX_ROWS = 100_000
MAX_QUANTITY = 1_000_000


@dataclass
class StockRow:
    line: int
    variant_id: int
    warehouse: Warehouse
    values: dict[str, object]


@dataclass
class StockPlan:
    rows: list[StockRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def stock_csv_parse(*, data: bytes) -> StockPlan:
    plan = StockPlan()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.errors.append("The file is not UTF-8 text; save it as CSV UTF-8.")
        return plan
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("sku", "warehouse", "on_hand") if name not in header]
    unknown = [name for name in header if name and name not in COLUMNS]
    if missing or unknown:
        if missing:
            plan.errors.append(f"line 1: missing columns: {', '.join(missing)}.")
        if unknown:
            plan.errors.append(f"line 1: unknown columns: {', '.join(unknown)}.")
        return plan
    reader.fieldnames = header
    records = []
    for record in reader:
        if len(records) >= MAX_ROWS:
            plan.errors.append(f"The file has more than {MAX_ROWS:,} rows; split it.")
            return plan
        records.append(
            (reader.line_num, {k: restore((v or "").strip()) for k, v in record.items() if k})
        )
    # Variants by SKU without regard to case (SKUs are unique that way), in chunks that
    # stay under SQLite's limit on query parameters; warehouses are few.
    wanted = sorted({record["sku"].lower() for _, record in records if record["sku"]})
    variants: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        variants.update(
            Variant.objects.annotate(sku_lower=Lower("sku"))
            .filter(sku_lower__in=wanted[start : start + 500])
            .values_list("sku_lower", "pk")
        )
    warehouses = {w.code.lower(): w for w in Warehouse.objects.filter(is_active=True)}
    seen: dict[tuple[int, int], int] = {}
    for line, record in records:
        problems = []
        variant_id = variants.get(record["sku"].lower())
        warehouse = warehouses.get(record["warehouse"].lower())
        if not record["sku"]:
            problems.append("sku is empty")
        elif variant_id is None:
            problems.append(f"no variant has the SKU {record['sku']!r}")
        if warehouse is None:
            problems.append(f"no warehouse has the code {record['warehouse']!r}")
        values: dict[str, object] = {}
        for name in NUMBERS:
            raw = record.get(name, "")
            if name not in record or (raw == "" and name != "on_hand"):
                continue
            if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_QUANTITY:
                problems.append(f"{name} {raw!r} is not a whole number from 0 to {MAX_QUANTITY:,}")
                continue
            values[name] = int(raw)
        if "bin_location" in record:
            if len(record["bin_location"]) > 40:
                problems.append("bin_location is longer than 40 characters")
            values["bin_location"] = record["bin_location"]
        if variant_id and warehouse:
            key = (variant_id, warehouse.pk)
            if key in seen:
                problems.append(f"the same SKU and warehouse as line {seen[key]}")
            seen[key] = line
        if problems:
            plan.errors.extend(f"line {line}: {problem}." for problem in problems)
        else:
            plan.rows.append(StockRow(line, variant_id, warehouse, values))
    if not plan.errors:
        _check_allocated(plan)
    return plan


def _check_allocated(plan: StockPlan) -> None:
    levels = {
        (level.variant_id, level.warehouse_id): level
        for level in StockLevel.objects.filter(variant_id__in={row.variant_id for row in plan.rows})
    }
    for row in plan.rows:
        level = levels.get((row.variant_id, row.warehouse.pk))
        if level and row.values["on_hand"] < level.allocated:
            plan.errors.append(
                f"line {row.line}: on_hand {row.values['on_hand']} is fewer than the "
                f"{level.allocated} allocated to orders."
            )


@transaction.atomic
def stock_csv_import(*, plan: StockPlan, actor=None) -> dict[str, int]:
    """Apply a checked plan: counts through the ledger, thresholds and bins set."""
    if plan.errors:
        raise InventoryError(f"The file has {len(plan.errors)} errors; nothing was imported.")
    lock_stock(row.variant_id for row in plan.rows)  # all rows first, pk order
    counted = unchanged = 0
    for row in plan.rows:
        level, _ = StockLevel.objects.get_or_create(
            variant_id=row.variant_id, warehouse=row.warehouse
        )
        move = stock_count_set(
            variant_id=row.variant_id,
            warehouse=row.warehouse,
            counted=row.values["on_hand"],
            reference="stock-import",
            actor=actor,
        )
        if move:
            counted += 1
        else:
            unchanged += 1
        settings_ = {k: v for k, v in row.values.items() if k != "on_hand"}
        if settings_:
            StockLevel.objects.filter(pk=level.pk).update(**settings_)
    return {"counted": counted, "unchanged": unchanged}


def stock_csv_export() -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def record(cells: list[object]) -> str:
        writer.writerow(defused_row(cells))
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield record(COLUMNS)
    levels = StockLevel.objects.select_related("variant", "warehouse").order_by(
        "variant__sku", "warehouse__code"
    )
    for level in levels.iterator(chunk_size=2000):
        yield record(
            [
                level.variant.sku,
                level.warehouse.code,
                level.on_hand,
                level.bin_location,
                level.reorder_point,
                level.safety_stock,
                level.reorder_quantity,
            ]
        )
