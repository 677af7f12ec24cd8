"""Low-stock alerts and the reorder suggestion.

Suggested quantity = expected demand over the lead time + safety stock - already on order
(- what is still available). The lead time is the preferred supplier's, or
DEFAULT_LEAD_TIME_DAYS; "on order" counts sent purchase orders not yet received.
Expected demand is the plain moving average of the last DEMAND_WEEKS weeks of sales in
the ledger: simple, explainable to a merchant, and steady against a single big order.
With no sales yet, the stock row's own reorder quantity is suggested.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from config.mail import send_templated_email
from inventory.models import StockAlert, StockLevel, StockMovement, SupplierItem
from inventory.purchasing import on_order

DEMAND_WEEKS = 4


def reorder_suggestions(*, levels: list[StockLevel]) -> dict[int, int]:
    """Suggested reorder quantity per stock row: one query for the sales of all of them."""
    since = timezone.now() - timedelta(weeks=DEMAND_WEEKS)
    sold = dict(
        StockMovement.objects.filter(
            stock__in=levels, reason=StockMovement.Reason.SALE, created_at__gte=since
        )
        .values("stock_id")
        .annotate(units=Sum("delta"))
        .values_list("stock_id", "units")
    )
    variant_ids = [level.variant_id for level in levels]
    lead_times = dict(
        SupplierItem.objects.filter(variant_id__in=variant_ids, is_preferred=True).values_list(
            "variant_id", "supplier__lead_time_days"
        )
    )
    ordered = on_order(variant_ids=variant_ids)
    suggestions = {}
    for level in levels:
        per_day = -(sold.get(level.pk) or 0) / (DEMAND_WEEKS * 7)
        if per_day == 0:
            suggestions[level.pk] = max(
                level.reorder_quantity - ordered.get(level.variant_id, 0), 0
            )
            continue
        lead_time = lead_times.get(level.variant_id, settings.DEFAULT_LEAD_TIME_DAYS)
        free = level.on_hand - level.allocated
        wanted = per_day * lead_time + level.safety_stock - ordered.get(level.variant_id, 0) - free
        suggestions[level.pk] = max(math.ceil(wanted), 0)
    return suggestions


def stock_alerts_check(*, variant_ids: list[int] | None = None) -> tuple[int, int]:
    """Open alerts for stock at or below its reorder point, close those that recovered.

    Returns (opened, resolved). Safe to run any number of times, also concurrently: the
    partial unique index refuses a second open alert for the same row.
    """
    levels = StockLevel.objects.annotate(free=F("on_hand") - F("allocated"))
    if variant_ids is not None:
        levels = levels.filter(variant_id__in=variant_ids)
    now = timezone.now()
    resolved = StockAlert.objects.filter(
        resolved_at__isnull=True,
        stock__in=levels.filter(free__gt=F("reorder_point")).values("pk"),
    ).update(resolved_at=now)
    open_alert = StockAlert.objects.filter(stock=OuterRef("pk"), resolved_at__isnull=True)
    low = list(
        levels.filter(reorder_point__gt=0, free__lte=F("reorder_point")).exclude(Exists(open_alert))
    )
    suggestions = reorder_suggestions(levels=low)
    opened = 0
    for level in low:
        try:
            with transaction.atomic():
                StockAlert.objects.create(
                    stock=level,
                    available_at_open=level.free,
                    suggested_quantity=suggestions[level.pk],
                )
        except IntegrityError:
            continue  # another run opened it first
        opened += 1
    return opened, resolved


def stock_alerts_notify() -> int:
    """Email one digest of the alerts no digest has listed yet to Warehouse and Manager
    staff; returns how many alerts it listed. Claims them first; a failed send gives the
    claim back so the retry can list them."""
    run = uuid.uuid4().hex
    StockAlert.objects.filter(notified_at__isnull=True, resolved_at__isnull=True).update(
        notified_at=timezone.now(), digest_run=run
    )
    alerts = list(
        StockAlert.objects.filter(digest_run=run).select_related(
            "stock__variant__product", "stock__warehouse"
        )
    )
    if not alerts:
        return 0
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=["Warehouse", "Manager"])
        .values_list("email", flat=True)
        .distinct()
    )
    if recipients:
        try:
            send_templated_email(template="stock_alerts", to=recipients, context={"alerts": alerts})
        except Exception:
            StockAlert.objects.filter(digest_run=run).update(notified_at=None, digest_run="")
            raise
    return len(alerts)
