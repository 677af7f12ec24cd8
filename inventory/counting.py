"""Cycle counts: count part of a warehouse, review the differences, approve them into the
ledger as "count" movements."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory.models import CycleCount, CycleCountLine, StockLevel
from inventory.services import InventoryError, lock_stock, stock_adjust


@transaction.atomic
def cycle_count_start(
    *, warehouse, category=None, bin_from: str = "", bin_to: str = "", actor=None
) -> CycleCount:
    """Open a count of a warehouse (or a category, or a bin range of it): one line per stock
    row with what the books say now."""
    levels = StockLevel.objects.filter(warehouse=warehouse)
    if category is not None:
        levels = levels.filter(variant__product__category__path__startswith=category.path)
    if bin_from:
        levels = levels.filter(bin_location__gte=bin_from)
    if bin_to:
        levels = levels.filter(bin_location__lte=bin_to)
    if not levels.exists():
        raise InventoryError("Nothing is stocked there to count.")
    count = CycleCount.objects.create(
        warehouse=warehouse, category=category, bin_from=bin_from, bin_to=bin_to, created_by=actor
    )
    CycleCountLine.objects.bulk_create(
        CycleCountLine(count=count, stock_id=pk, expected=on_hand)
        for pk, on_hand in levels.values_list("pk", "on_hand")
    )
    return count


@transaction.atomic
def cycle_count_record(
    *, count: CycleCount, code: str, quantity: int | None = None
) -> CycleCountLine:
    """Record a scan (SKU or barcode): one more unit, or `quantity` when typed."""
    locked = CycleCount.objects.select_for_update().get(pk=count.pk)
    if locked.status != CycleCount.Status.OPEN:
        raise InventoryError("This count is closed.")
    code = code.strip()
    if not code:
        raise InventoryError("Scan or type a SKU or barcode.")
    line = (
        locked.lines.select_for_update()
        .filter(Q(stock__variant__sku__iexact=code) | Q(stock__variant__barcode=code))
        .select_related("stock__variant")
        .first()
    )
    if line is None:
        raise InventoryError(f"{code} is not part of this count.")
    if quantity is not None and quantity < 0:
        raise InventoryError("A count cannot be negative.")
    if line.counted is None:
        # What the books say when this shelf is first counted: approval applies
        # (counted - expected), so movements before this moment are in `expected` and
        # movements after it are in today's on hand, and neither is counted twice.
        line.expected = StockLevel.objects.get(pk=line.stock_id).on_hand
    line.counted = quantity if quantity is not None else (line.counted or 0) + 1
    line.save(update_fields=["counted", "expected"])
    return line


@transaction.atomic
def cycle_count_approve(*, count: CycleCount, actor=None) -> int:
    """Write every difference to the ledger; returns how many rows changed. Lines nobody
    counted are left as they are."""
    locked = CycleCount.objects.select_for_update().get(pk=count.pk)
    if locked.status != CycleCount.Status.OPEN:
        raise InventoryError("This count is already closed.")
    counted = list(locked.lines.select_related("stock__warehouse").filter(counted__isnull=False))
    lock_stock(line.stock.variant_id for line in counted)  # all rows first, pk order
    changed = 0
    for line in counted:
        if line.variance:
            stock_adjust(
                variant_id=line.stock.variant_id,
                warehouse=line.stock.warehouse,
                delta=line.variance,
                reason="count",
                reference=f"count:{locked.pk}",
                actor=actor,
            )
            changed += 1
    locked.status = CycleCount.Status.APPROVED
    locked.approved_by = actor
    locked.approved_at = timezone.now()
    locked.save(update_fields=["status", "approved_by", "approved_at"])
    return changed


def cycle_count_accuracy(*, count: CycleCount) -> float | None:
    """Share of counted lines that matched the books, 0-1; None before anything is counted."""
    lines = [line for line in count.lines.all() if line.counted is not None]
    if not lines:
        return None
    return sum(1 for line in lines if line.variance == 0) / len(lines)
