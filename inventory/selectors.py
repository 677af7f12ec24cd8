"""Reads of stock that the storefront, the dashboard and tasks share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from inventory.models import Reservation, StockAlert, StockLevel, StockMovement


def availability(*, variant_ids: Iterable[int]) -> dict[int, int]:
    """Available = on hand - allocated - unexpired cart holds, per variant, never negative.

    Two aggregate queries whatever the number of variants.
    """
    ids = set(variant_ids)
    stock = (
        StockLevel.objects.filter(variant_id__in=ids, warehouse__is_active=True)
        .values("variant_id")
        .annotate(free=Sum(F("on_hand") - F("allocated")))
    )
    held = (
        Reservation.objects.filter(variant_id__in=ids, expires_at__gt=timezone.now())
        .values("variant_id")
        .annotate(total=Sum("quantity"))
    )
    free = {row["variant_id"]: row["free"] for row in stock}
    for row in held:
        free[row["variant_id"]] = free.get(row["variant_id"], 0) - row["total"]
    return {variant_id: max(free.get(variant_id, 0), 0) for variant_id in ids}


def stock_with_free(*, now: datetime | None = None) -> QuerySet[StockLevel]:
    """Stock rows annotated with `free`: on hand - allocated - the row's share of the
    variant's unexpired cart holds.

    Holds belong to a variant, not a warehouse, so they are shared out the way an order
    would take stock: warehouse by warehouse in priority order (then row pk), each row
    carrying the holds the rows before it could not. Rows of closed warehouses carry none
    (nothing is sold from them). Summed over a variant's active rows this is exactly
    `availability()` (while holds do not exceed what is free), and the split says which
    warehouse will run out first. Correlated subqueries, not a window, so a filter on the
    queryset (one warehouse) cannot change another row's share: one query for any number
    of rows.
    """
    now = now or timezone.now()
    own = F("on_hand") - F("allocated")
    held = Subquery(
        Reservation.objects.filter(variant_id=OuterRef("variant_id"), expires_at__gt=now)
        .order_by()
        .values("variant_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    earlier = Subquery(
        StockLevel.objects.filter(variant_id=OuterRef("variant_id"), warehouse__is_active=True)
        .filter(
            Q(warehouse__priority__lt=OuterRef("warehouse__priority"))
            | Q(warehouse__priority=OuterRef("warehouse__priority"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("variant_id")
        .annotate(total=Sum(F("on_hand") - F("allocated")))
        .values("total")
    )
    left_for_row = Greatest(Coalesce(held, Value(0)) - Coalesce(earlier, Value(0)), Value(0))
    share = Case(When(warehouse__is_active=True, then=Least(left_for_row, own)), default=Value(0))
    return StockLevel.objects.annotate(free=own - share)


def stock_list_for_staff(*, filters: dict) -> QuerySet[StockLevel]:
    """The stock table: one row per variant and warehouse, with product and warehouse."""
    rows = (
        stock_with_free()
        .select_related("variant__product", "warehouse")
        .order_by("variant__product__title", "variant__position", "warehouse__priority")
    )
    if query := filters.get("q"):
        rows = rows.filter(
            Q(variant__sku__icontains=query) | Q(variant__product__title__icontains=query)
        )
    if warehouse := filters.get("warehouse"):
        rows = rows.filter(warehouse=warehouse)
    match filters.get("state"):
        case "out":
            rows = rows.filter(free__lte=0)
        case "low":
            rows = rows.filter(reorder_point__gt=0, free__lte=F("reorder_point"), free__gt=0)
    return rows


def ledger_for_variant(*, variant_id: int, limit: int = 100) -> list[StockMovement]:
    return list(
        StockMovement.objects.filter(stock__variant_id=variant_id)
        .select_related("stock__warehouse", "actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def alerts_for_staff() -> tuple[list[StockAlert], list[StockAlert]]:
    alerts = StockAlert.objects.select_related(
        "stock__variant__product", "stock__warehouse", "purchase_order"
    )
    return (
        list(alerts.filter(resolved_at__isnull=True).order_by("opened_at")),
        list(alerts.filter(resolved_at__isnull=False).order_by("-resolved_at")[:20]),
    )


def on_hand_history(*, variant_id: int, limit: int = 200) -> list[int]:
    """Total on hand (all warehouses) after each of the last `limit` movements, oldest first.

    Walks back from today's total, so only the recent movements are read.
    """
    total = (
        StockLevel.objects.filter(variant_id=variant_id).aggregate(total=Sum("on_hand"))["total"]
        or 0
    )
    deltas = list(
        StockMovement.objects.filter(stock__variant_id=variant_id)
        .order_by("-created_at", "-pk")
        .values_list("delta", flat=True)[:limit]
    )
    history = [total]
    for delta in deltas:
        total -= delta
        history.append(total)
    return list(reversed(history))
