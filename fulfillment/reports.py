"""Delivery performance and returns, computed from shipments and return lines.

Both read one bounded period (a few weeks) with one or two aggregate queries; nothing is
stored, so the figures are always those of the rows as they are now.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.utils import timezone

from fulfillment.carriers import cutoff_time
from fulfillment.models import ReturnLine, ReturnRequest, Shipment
from orders.models import OrderLine


def _avg(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


@dataclass
class Bucket:
    label: str
    shipped: int = 0
    hours_to_ship: list[float] = field(default_factory=list)
    transit_days: list[float] = field(default_factory=list)
    on_time: int = 0
    judged: int = 0  # delivered, or past the promise without delivery
    same_day: int = 0
    before_cutoff: int = 0

    @property
    def avg_hours_to_ship(self) -> float | None:
        return _avg(self.hours_to_ship)

    @property
    def avg_transit_days(self) -> float | None:
        return _avg(self.transit_days)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.judged)

    @property
    def same_day_rate(self) -> float | None:
        return _rate(self.same_day, self.before_cutoff)


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def delivery_performance(*, weeks: int = 8, today: datetime.date | None = None) -> dict:
    """Per week (Monday first) and per carrier service, for parcels shipped in the last
    `weeks` weeks: hours from payment to shipping, days in transit, the share delivered by
    the promised day (late parcels still on the way count as late), and the share of
    orders paid by the cut-off that left the same day (first parcel of each order)."""
    today = today or timezone.localdate()
    first_week = week_start(today) - datetime.timedelta(weeks=weeks - 1)
    start = timezone.make_aware(datetime.datetime.combine(first_week, datetime.time()))
    rows = (
        Shipment.objects.filter(
            return_request__isnull=True, shipped_at__gte=start, shipped_at__isnull=False
        )
        .exclude(status=Shipment.Status.CANCELLED)
        .order_by("shipped_at", "pk")
        .values(
            "order_id",
            "order__paid_at",
            "shipped_at",
            "delivered_at",
            "promised_by",
            "service__name",
            "service__carrier__name",
        )
    )
    weekly = {
        first_week + datetime.timedelta(weeks=index): Bucket(
            label=(first_week + datetime.timedelta(weeks=index)).isoformat()
        )
        for index in range(weeks)
    }
    services: dict[str, Bucket] = {}
    total = Bucket(label="All parcels")
    cutoff = cutoff_time()
    seen_orders: set[int] = set()
    for row in rows:
        shipped = timezone.localtime(row["shipped_at"])
        name = f"{row['service__carrier__name'] or '—'} {row['service__name'] or ''}".strip()
        buckets = [weekly[week_start(shipped.date())], total]
        buckets.append(services.setdefault(name, Bucket(label=name)))
        for bucket in buckets:
            bucket.shipped += 1
        paid = timezone.localtime(row["order__paid_at"]) if row["order__paid_at"] else None
        first = row["order_id"] not in seen_orders
        seen_orders.add(row["order_id"])
        for bucket in buckets:
            if paid:
                bucket.hours_to_ship.append((shipped - paid).total_seconds() / 3600)
            if row["delivered_at"]:
                bucket.transit_days.append(
                    (row["delivered_at"] - row["shipped_at"]).total_seconds() / 86400
                )
            promise = row["promised_by"]
            if promise and row["delivered_at"]:
                bucket.judged += 1
                bucket.on_time += timezone.localtime(row["delivered_at"]).date() <= promise
            elif promise and promise < today:
                bucket.judged += 1
            if first and paid and paid.time() <= cutoff:
                bucket.before_cutoff += 1
                bucket.same_day += shipped.date() == paid.date()
    return {
        "weeks": list(weekly.values()),
        "services": sorted(services.values(), key=lambda bucket: bucket.label),
        "total": total,
        "since": first_week,
    }


@dataclass
class ProductReturns:
    product: str
    sold: int = 0
    returned: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return _rate(self.returned, self.sold)

    @property
    def top_reason(self) -> str:
        if not self.reasons:
            return ""
        reason = max(self.reasons.items(), key=lambda item: item[1])[0]
        return ReturnRequest.Reason(reason).label


def returns_report(*, since: datetime.date, until: datetime.date | None = None) -> dict:
    """Return rate (units asked back, rejected requests left out, over units shipped) and
    reasons by product, for orders paid in the period."""
    until = until or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time()))
    end = timezone.make_aware(
        datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time())
    )
    sold = (
        OrderLine.objects.filter(order__paid_at__gte=start, order__paid_at__lt=end)
        .values("product_title")
        .annotate(units=Sum("quantity_fulfilled"))
    )
    products: dict[str, ProductReturns] = defaultdict(lambda: ProductReturns(product=""))
    for row in sold:
        entry = products[row["product_title"]]
        entry.product, entry.sold = row["product_title"], row["units"] or 0
    returned = (
        ReturnLine.objects.filter(
            order_line__order__paid_at__gte=start, order_line__order__paid_at__lt=end
        )
        .exclude(return_request__status=ReturnRequest.Status.REJECTED)
        .values("order_line__product_title", "return_request__reason")
        .annotate(units=Sum("quantity"))
    )
    for row in returned:
        entry = products[row["order_line__product_title"]]
        entry.product = row["order_line__product_title"]
        entry.returned += row["units"]
        entry.reasons[row["return_request__reason"]] = row["units"]
    reasons = (
        ReturnRequest.objects.filter(order__paid_at__gte=start, order__paid_at__lt=end)
        .exclude(status=ReturnRequest.Status.REJECTED)
        .values("reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "reason")
    )
    rows = sorted(
        (entry for entry in products.values() if entry.sold or entry.returned),
        key=lambda entry: (-(entry.rate or 0), entry.product),
    )
    shipped = sum(entry.sold for entry in rows)
    back = sum(entry.returned for entry in rows)
    return {
        "products": rows,
        "reasons": [
            {"label": ReturnRequest.Reason(row["reason"]).label, "count": row["count"]}
            for row in reasons
        ],
        "sold": shipped,
        "returned": back,
        "rate": _rate(back, shipped),
        "rate_percent": round(back * 100 / shipped, 1) if shipped else None,
        "since": since,
        "until": until,
    }
