"""Reads for analytics that views, tasks and reports share.

The day aggregations below are the one definition of every KPI: the nightly rollup
writes them into the daily tables with INSERT ... SELECT, and the dashboard evaluates
the same querysets for today so far.

Definitions (store time zone, settings.TIME_ZONE, decides the day):
- an order counts on the day it was created; it counts as an order (and its total as
  gross revenue) once paid and while not cancelled;
- a refund counts on the day it was made, once it succeeded, and a lost dispute on the
  day it closed, unless its order is cancelled (a cancelled order's revenue is not
  counted either); net revenue = gross revenue - refunds;
- a cart counts as created on its creation day when it has items (or became an order);
  it is abandoned when it was not ordered within 24 hours of its creation (as far as
  known when the day is rolled up: the nightly job rolls the day before yesterday again
  so the figure settles);
- a new customer placed their first order that day; returning customers ordered before;
- gross profit = net revenue - tax - cost of goods; gross margin = gross profit /
  (net revenue - tax);
- sessions are visits that started that day; a bounce is a visit of one page view;
  conversion rate = orders / sessions; a source is credited with an order through the
  ordering visitor's first source ("(none)" when the order was not placed in a tracked
  visit).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate

from analytics.models import ProductView, Visit
from orders.models import Cart, CartLine, Dispute, Order, OrderLine, Refund

ABANDONED_AFTER = timedelta(hours=24)
REVENUE_PAYMENT_STATES = (
    Order.PaymentStatus.PAID,
    Order.PaymentStatus.PARTIALLY_REFUNDED,
    Order.PaymentStatus.REFUNDED,
)
UNATTRIBUTED = "(none)"


def store_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def store_today() -> date:
    return datetime.now(store_tz()).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in aware datetimes for the store days first..last."""
    tz = store_tz()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=store_tz())


def _in(field: str, first: date, last: date) -> Q:
    start, end = day_bounds(first, last)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _revenue(first: date, last: date, prefix: str = "") -> Q:
    """Orders that count: created in the range, paid, not cancelled (`prefix` reaches the
    order from a line: "order__")."""
    return (
        _in(f"{prefix}created_at", first, last)
        & Q(**{f"{prefix}payment_status__in": REVENUE_PAYMENT_STATES})
        & ~Q(**{f"{prefix}status": Order.Status.CANCELLED})
    )


def revenue_orders(first: date, last: date) -> QuerySet[Order]:
    return Order.objects.filter(_revenue(first, last))


@dataclass(frozen=True)
class Aggregation:
    """A grouped queryset and which of its aliases fill which table columns."""

    queryset: QuerySet
    columns: dict[str, str]  # table column -> alias in the queryset

    def rows(self) -> list[dict]:
        return [
            {column: row[alias] for column, alias in self.columns.items()} for row in self.queryset
        ]


def _grouped(qs: QuerySet, keys: dict, aggregates: dict) -> Aggregation:
    grouped = qs.order_by().values(**keys).annotate(**aggregates).order_by()
    columns = {name.removeprefix("k_"): name for name in keys}
    columns.update({name: name for name in aggregates})
    return Aggregation(grouped, columns)


# --- overall, per day -----------------------------------------------------------------------


def daily_order_figures(first: date, last: date) -> Aggregation:
    return _grouped(
        revenue_orders(first, last).annotate(first_order_day=_day("customer__first_order_at")),
        {"k_day": _day("created_at")},
        {
            "orders": Count("pk"),
            "gross_revenue": Sum("total"),
            "discounts": Sum("discount_total"),
            "tax": Sum("tax_total"),
            "shipping": Sum("shipping_total"),
            "cost_of_goods": Sum("cost_total"),
            "new_customers": Count("customer", distinct=True, filter=Q(first_order_day=F("k_day"))),
            "returning_customers": Count(
                "customer", distinct=True, filter=~Q(first_order_day=F("k_day"))
            ),
        },
    )


def daily_units(first: date, last: date) -> Aggregation:
    return _grouped(
        OrderLine.objects.filter(_revenue(first, last, "order__")),
        {"k_day": _day("order__created_at")},
        {"units": Sum("quantity")},
    )


def daily_refunds(first: date, last: date) -> Aggregation:
    return _grouped(
        Refund.objects.filter(
            _in("created_at", first, last), status=Refund.Status.SUCCEEDED
        ).exclude(order__status=Order.Status.CANCELLED),
        {"k_day": _day("created_at")},
        {"refunds": Sum("amount")},
    )


def daily_lost_disputes(first: date, last: date) -> Aggregation:
    """A chargeback lost is money the bank took back: a refund on the day it closed."""
    return _grouped(
        Dispute.objects.filter(_in("closed_at", first, last), status=Dispute.Status.LOST).exclude(
            order__status=Order.Status.CANCELLED
        ),
        {"k_day": _day("closed_at")},
        {"refunds": Sum("amount")},
    )


def daily_sessions(first: date, last: date) -> Aggregation:
    return _grouped(
        Visit.objects.filter(_in("started_at", first, last)),
        {"k_day": _day("started_at")},
        {"sessions": Count("pk"), "bounces": Count("pk", filter=Q(page_views=1))},
    )


def daily_product_views(first: date, last: date) -> Aggregation:
    return _grouped(
        ProductView.objects.filter(_in("viewed_at", first, last)),
        {"k_day": _day("viewed_at")},
        {"product_views": Count("pk")},
    )


def daily_add_to_carts(first: date, last: date) -> Aggregation:
    return _grouped(
        CartLine.objects.filter(_in("added_at", first, last)),
        {"k_day": _day("added_at")},
        {"add_to_carts": Count("pk")},
    )


def daily_checkouts(first: date, last: date) -> Aggregation:
    return _grouped(
        Cart.objects.filter(_in("checkout_started_at", first, last)),
        {"k_day": _day("checkout_started_at")},
        {"checkouts_started": Count("pk")},
    )


def daily_carts(first: date, last: date) -> Aggregation:
    carts = (
        Cart.objects.filter(_in("created_at", first, last))
        .exclude(status=Cart.Status.MERGED)
        .filter(
            Q(Exists(CartLine.objects.filter(cart=OuterRef("pk")))) | Q(ordered_at__isnull=False)
        )
    )
    return _grouped(
        carts,
        {"k_day": _day("created_at")},
        {
            "carts_created": Count("pk"),
            "carts_abandoned": Count(
                "pk",
                filter=Q(ordered_at__isnull=True)
                | Q(ordered_at__gt=F("created_at") + ABANDONED_AFTER),
            ),
        },
    )


DAILY_PARTS = (
    daily_order_figures,
    daily_units,
    daily_refunds,
    daily_lost_disputes,
    daily_sessions,
    daily_product_views,
    daily_add_to_carts,
    daily_checkouts,
    daily_carts,
)


# --- per traffic source, per day ------------------------------------------------------------


def source_sessions(first: date, last: date) -> Aggregation:
    return _grouped(
        Visit.objects.filter(_in("started_at", first, last)),
        {"k_day": _day("started_at"), "k_source": F("source")},
        {"sessions": Count("pk")},
    )


def source_orders(first: date, last: date) -> Aggregation:
    return _grouped(
        revenue_orders(first, last),
        {
            "k_day": _day("created_at"),
            "k_source": Coalesce("analytics_attribution__source", Value(UNATTRIBUTED)),
        },
        {"orders": Count("pk"), "revenue": Sum("total")},
    )


# --- per product, per day -------------------------------------------------------------------


def product_views(first: date, last: date) -> Aggregation:
    return _grouped(
        ProductView.objects.filter(_in("viewed_at", first, last)),
        {"k_day": _day("viewed_at"), "k_product_id": F("product_id")},
        {"views": Count("pk")},
    )


def product_add_to_carts(first: date, last: date) -> Aggregation:
    return _grouped(
        CartLine.objects.filter(_in("added_at", first, last)),
        {"k_day": _day("added_at"), "k_product_id": F("variant__product_id")},
        {"add_to_carts": Count("pk")},
    )


def product_sales(first: date, last: date) -> Aggregation:
    return _grouped(
        OrderLine.objects.filter(_revenue(first, last, "order__"), variant__isnull=False),
        {"k_day": _day("order__created_at"), "k_product_id": F("variant__product_id")},
        {"units": Sum("quantity"), "revenue": Sum("line_total")},
    )
