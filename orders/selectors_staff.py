"""Reads for the orders dashboard: the list with its filters and keyset pages, one order.

The list stays fast at a million orders: every filter has an index that also orders by
(created_at, id) or narrows to few rows, pages are keyset (no OFFSET), and the count is
bounded (counting a million rows on every page load is what makes admin lists slow).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from orders.models import Order

PAGE_SIZE = 50
COUNT_LIMIT = 1000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Cursor:
    """A position in the newest-first list: the (created_at, id) of a row."""

    created_at: dt.datetime
    pk: int

    def encode(self) -> str:
        # Whole microseconds since the epoch: a float timestamp could lose the last digit.
        return f"{(self.created_at - EPOCH) // dt.timedelta(microseconds=1)}_{self.pk}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        try:
            micros, pk = (raw or "").split("_")
            when = EPOCH + dt.timedelta(microseconds=int(micros))
            return cls(created_at=when, pk=int(pk))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass
class OrderPage:
    rows: list[Order]
    count: int  # at most COUNT_LIMIT + 1: "1,000+ orders"
    next_cursor: str = ""
    previous_cursor: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def count_is_bounded(self) -> bool:
        return self.count > COUNT_LIMIT

    @property
    def shown_count(self) -> int:
        return min(self.count, COUNT_LIMIT)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def order_search(queryset: QuerySet[Order], q: str) -> QuerySet[Order]:
    """An order number (exact, "#1042" too), an email (prefix, case-insensitive) or the
    name on the order (prefix, case-insensitive). One branch per kind of input, so each is
    one index lookup: an OR across the three would scan."""
    q = q.strip()
    if q.startswith("#"):
        q = q[1:]
    if q.isdigit():
        return queryset.filter(number=q)
    if "@" in q:
        return queryset.alias(email_lower=Lower("email")).filter(email_lower__startswith=q.lower())
    # The name on the order (its shipping address), which is the customer's name when it
    # was placed: the one on the parcel and the one a caller gives.
    return queryset.alias(name_lower=Lower(KT("shipping_address__full_name"))).filter(
        name_lower__startswith=q.lower()
    )


def order_list_for_staff(*, filters: dict) -> QuerySet[Order]:
    """Orders matching the dashboard's filters, newest first, with the customer joined.

    filters: q, status, payment_status, fulfillment_status, risk ("high"), date_from,
    date_to (dates, inclusive), customer (id). Empty values are ignored.
    """
    orders = Order.objects.select_related("customer").order_by("-created_at", "-id")
    for name in ("status", "payment_status", "fulfillment_status"):
        if filters.get(name):
            orders = orders.filter(**{name: filters[name]})
    if filters.get("risk") == "high":
        orders = orders.filter(risk_score__gte=settings.RISK_HOLD_THRESHOLD)
    if filters.get("date_from"):
        orders = orders.filter(created_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        orders = orders.filter(created_at__lt=_day_start(filters["date_to"] + dt.timedelta(days=1)))
    if filters.get("customer"):
        orders = orders.filter(customer_id=filters["customer"])
    if filters.get("q"):
        orders = order_search(orders, filters["q"])
    return orders.only(
        "pk",
        "number",
        "email",
        "status",
        "payment_status",
        "fulfillment_status",
        "total",
        "currency",
        "risk_score",
        "is_disputed",
        "created_at",
        "shipping_address",
        "customer__id",
        "customer__full_name",
        "customer__email",
    )


def _after(cursor: Cursor) -> Q:
    # created_at <= c bounds the index range; the OR then skips the rows at c already shown.
    return Q(created_at__lte=cursor.created_at) & (
        Q(created_at__lt=cursor.created_at) | Q(id__lt=cursor.pk)
    )


def _before(cursor: Cursor) -> Q:
    return Q(created_at__gte=cursor.created_at) & (
        Q(created_at__gt=cursor.created_at) | Q(id__gt=cursor.pk)
    )


def order_page(
    queryset: QuerySet[Order],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> OrderPage:
    """One keyset page of `queryset` (ordered newest first): the rows after (older than)
    cursor `after`, or before (newer than) `before`, or the first page."""
    count = queryset.order_by()[: COUNT_LIMIT + 1].count()
    after_cursor, before_cursor = Cursor.decode(after), Cursor.decode(before)
    if before_cursor is not None:
        newer = list(
            queryset.filter(_before(before_cursor)).order_by("created_at", "id")[: size + 1]
        )
        has_newer = len(newer) > size
        rows = list(reversed(newer[:size]))
        has_older = True
    else:
        if after_cursor is not None:
            queryset = queryset.filter(_after(after_cursor))
        rows = list(queryset[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = after_cursor is not None
    page = OrderPage(rows=rows, count=count)
    if rows and has_older:
        page.next_cursor = Cursor(rows[-1].created_at, rows[-1].pk).encode()
    if rows and has_newer:
        page.previous_cursor = Cursor(rows[0].created_at, rows[0].pk).encode()
    return page


def order_get_for_staff_or_404(number: str) -> Order:
    return get_object_or_404(
        Order.objects.select_related("customer", "shipping_method", "voucher").prefetch_related(
            "lines",
            "payments",
            "refunds__created_by",
            "disputes",
            "events__actor",
        ),
        number=number,
    )
