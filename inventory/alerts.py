"""Low-stock alerts and the reorder suggestion.

Suggested quantity = expected demand over the lead time + safety stock - already on order
(- what is still available). The lead time is the preferred supplier's, or
DEFAULT_LEAD_TIME_DAYS; "on order" counts sent purchase orders not yet received into the
row's own warehouse.
Expected demand is the plain moving average of the last DEMAND_WEEKS weeks of sales in
the ledger: simple, explainable to a merchant, and steady against a single big order.
With no sales yet, the stock row's own reorder quantity is suggested.

"Free" here is what the storefront would sell: on hand - allocated - unexpired cart holds.
Holds are per variant, so each stock row carries a share of them, given out in the order
an order takes stock (warehouse priority, then row): see selectors.stock_with_free. That
keeps alerts per warehouse (a reorder goes to one warehouse) while the variant's rows
still add up to its availability; comparing the variant's total against the sum of the
reorder points would hide one empty warehouse behind a full one. Closed warehouses get no
alerts (nothing is sold or reordered there), and their open alerts close.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from config.mail import send_templated_email
from inventory.models import (
    StockAlert,
    StockAlertDigest,
    StockLevel,
    StockMovement,
    SupplierItem,
)
from inventory.purchasing import on_order_by_warehouse
from inventory.selectors import stock_with_free
from inventory.services import lock_stock

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
    # What is on its way to this row's warehouse, not to another one.
    ordered = on_order_by_warehouse(variant_ids=variant_ids)
    suggestions = {}
    for level in levels:
        per_day = -(sold.get(level.pk) or 0) / (DEMAND_WEEKS * 7)
        if per_day == 0:
            suggestions[level.pk] = max(
                level.reorder_quantity - ordered.get((level.variant_id, level.warehouse_id), 0), 0
            )
            continue
        lead_time = lead_times.get(level.variant_id, settings.DEFAULT_LEAD_TIME_DAYS)
        free = getattr(level, "free", level.on_hand - level.allocated)
        wanted = (
            per_day * lead_time
            + level.safety_stock
            - ordered.get((level.variant_id, level.warehouse_id), 0)
            - free
        )
        suggestions[level.pk] = max(math.ceil(wanted), 0)
    return suggestions


def stock_alerts_check(*, variant_ids: list[int] | None = None) -> tuple[int, int]:
    """Open alerts for stock at or below its reorder point, close those that recovered.

    Returns (opened, resolved). Safe to run any number of times, also concurrently. A first
    read without locks finds the variants with something to do; both decisions are then
    made again, and written, under those variants' stock row locks (pk order, as every
    stock change takes them). So an alert never opens for stock that recovered, nor closes
    for stock that fell again, between the read and the write: a change that commits
    after this transaction runs its own check, which sees what this one wrote. The partial
    unique index refuses a second open alert for the same row as a backstop.
    """
    levels = stock_with_free()
    if variant_ids is not None:
        levels = levels.filter(variant_id__in=variant_ids)
    to_close = _candidates(_recovered(levels))
    to_open = _low_candidates(levels)
    if not to_close and not to_open:
        return 0, 0
    return _settle(variant_ids=sorted(set(to_close) | set(to_open)))


def _recovered(levels: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    open_alert = StockAlert.objects.filter(stock=OuterRef("pk"), resolved_at__isnull=True)
    return levels.filter(
        Q(warehouse__is_active=False) | Q(reorder_point=0) | Q(free__gt=F("reorder_point")),
        Exists(open_alert),
    )


def _low(levels: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    open_alert = StockAlert.objects.filter(stock=OuterRef("pk"), resolved_at__isnull=True)
    return levels.filter(
        warehouse__is_active=True, reorder_point__gt=0, free__lte=F("reorder_point")
    ).exclude(Exists(open_alert))


def _candidates(levels: QuerySet[StockLevel]) -> list[int]:
    return sorted(set(levels.order_by().values_list("variant_id", flat=True)))


def _low_candidates(levels: QuerySet[StockLevel]) -> list[int]:
    """Variants with a row that looks low and has no open alert (read without locks)."""
    return _candidates(_low(levels))


@transaction.atomic
def _settle(*, variant_ids: list[int]) -> tuple[int, int]:
    lock_stock(variant_ids)
    now = timezone.now()
    levels = stock_with_free(now=now).filter(variant_id__in=variant_ids)
    resolved = StockAlert.objects.filter(
        resolved_at__isnull=True, stock__in=_recovered(levels).values("pk")
    ).update(resolved_at=now)
    low = list(_low(levels).order_by("pk"))
    suggestions = reorder_suggestions(levels=low)
    StockAlert.objects.bulk_create(
        [
            StockAlert(
                stock=level,
                available_at_open=level.free,
                suggested_quantity=suggestions[level.pk],
            )
            for level in low
        ],
        ignore_conflicts=True,  # the unique index, should anything open one unlocked
    )
    return len(low), resolved


# Longer than any send can take (SMTP times out well before): a claim this old with no
# sent stamp belongs to a worker that died between claiming and sending.
DIGEST_RESEND_AFTER = timedelta(minutes=30)


def stock_alerts_notify() -> int:
    """Email digests of low-stock alerts to Warehouse and Manager staff; returns how many
    alerts they listed.

    At least once: first any digest a dead worker left unsent (claimed over
    DIGEST_RESEND_AFTER ago) or a failed send gave back, then one new digest of the alerts
    no digest has claimed yet. Each is claimed in the database before the email goes and
    stamped sent after; a repeat of a digest carries the same Message-ID, so mail clients
    and people can tell it is the same message.
    """
    listed = 0
    for digest in [*_digests_left_unsent(), *_digest_claim_new()]:
        listed += _digest_send(digest)
    return listed


def _digests_left_unsent() -> list[StockAlertDigest]:
    now = timezone.now()
    stale = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - DIGEST_RESEND_AFTER)
    claimed = []
    for digest in StockAlertDigest.objects.filter(stale, sent_at__isnull=True).order_by("pk"):
        # Conditional: of two runs that both saw it stale, only one takes it.
        if StockAlertDigest.objects.filter(stale, pk=digest.pk, sent_at__isnull=True).update(
            claimed_at=now
        ):
            claimed.append(digest)
    return claimed


@transaction.atomic
def _digest_claim_new() -> list[StockAlertDigest]:
    # The alerts and their digest row commit together: a crash leaves both or neither.
    now = timezone.now()
    run = uuid.uuid4().hex
    claimed = StockAlert.objects.filter(notified_at__isnull=True, resolved_at__isnull=True).update(
        notified_at=now, digest_run=run
    )
    if not claimed:
        return []
    return [StockAlertDigest.objects.create(run=run, claimed_at=now)]


def _digest_send(digest: StockAlertDigest) -> int:
    # Alerts resolved since the claim are left out: a late repeat should not cry wolf.
    alerts = list(
        StockAlert.objects.filter(digest_run=digest.run, resolved_at__isnull=True)
        .select_related("stock__variant__product", "stock__warehouse")
        .order_by("opened_at", "pk")
    )
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=["Warehouse", "Manager"])
        .values_list("email", flat=True)
        .distinct()
    )
    attempt = StockAlertDigest.objects.filter(pk=digest.pk)
    if alerts and recipients:
        try:
            send_templated_email(
                template="stock_alerts",
                to=recipients,
                context={"alerts": alerts},
                headers={"Message-ID": digest_message_id(digest.run)},
            )
        except Exception:
            # Not sent: give the claim back so the task's retry sends it straight away.
            attempt.update(claimed_at=None, attempts=F("attempts") + 1)
            raise
    attempt.update(sent_at=timezone.now(), attempts=F("attempts") + 1)
    return len(alerts) if recipients else 0


def digest_message_id(run: str) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<stock-alerts.{run}@{host}>"
