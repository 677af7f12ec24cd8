"""Reads of stock that the storefront, the dashboard and tasks share."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import Reservation, StockLevel


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
