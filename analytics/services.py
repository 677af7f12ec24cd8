"""Writes for analytics: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Model, Value, When
from django.utils import timezone

from analytics import selectors
from analytics.middleware import PageView, current_page_view
from analytics.models import (
    DailyKpi,
    DailyProductKpi,
    DailySourceKpi,
    KpiDay,
    OrderAttribution,
    ProductView,
    Visit,
    Visitor,
)
from catalog.models import Product

DAILY_METRICS = [
    field.name for field in DailyKpi._meta.concrete_fields if field.name not in ("id", "day")
]
RATE_FIELD = DecimalField(max_digits=20, decimal_places=6)


class RollupError(ValueError):
    pass


# Tests of a worker killed in the middle of the job set this (seconds): the rollup then
# writes a marker file and waits inside its transaction, everything written but nothing
# committed. Never set in production.
PAUSE_ENV = "ANALYTICS_ROLLUP_TEST_PAUSE"


def _pause_for_tests() -> None:
    if seconds := os.environ.get(PAUSE_ENV):
        Path(os.environ[PAUSE_ENV + "_MARKER"]).write_text("inside")
        time.sleep(float(seconds))


def _upsert(model: type[Model], aggregation: selectors.Aggregation, conflict: list[str]) -> None:
    """INSERT INTO table SELECT <aggregation> ON CONFLICT (...) DO UPDATE: one statement,
    on PostgreSQL and SQLite alike (both speak this dialect)."""
    sql, params = aggregation.queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = list(aggregation.columns)
    targets = [model._meta.get_field(c).column for c in columns]
    select = ", ".join(f"agg.{quote(aggregation.columns[c])}" for c in columns)
    updates = ", ".join(f"{quote(t)} = EXCLUDED.{quote(t)}" for t in targets if t not in conflict)
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(t) for t in targets)}) "  # noqa: S608 - names come from models, values are parameters
        f"SELECT {select} FROM ({sql}) agg WHERE true "
        f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _ratio(numerator, denominator) -> Case:
    # "* 1.0" makes both databases divide as decimals (SQLite would divide integers).
    return Case(
        When(
            **{f"{denominator}__gt": 0},
            then=ExpressionWrapper(
                numerator * Value(Decimal("1.0")) / F(denominator), output_field=RATE_FIELD
            ),
        ),
        default=Decimal(0),
        output_field=RATE_FIELD,
    )


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@transaction.atomic
def kpis_roll_up(*, first: date, last: date) -> int:
    """Roll the store days first..last into the daily tables; returns the number of days.

    Set-based: each table is filled by a few INSERT ... SELECT ... ON CONFLICT statements
    over the whole range. The days' claim rows are locked for the transaction, so two
    runs of the same days (beat and a person at the command line) take turns, and
    either one leaves the same rows.
    """
    if first > last:
        raise RollupError(f"The range starts after it ends: {first} > {last}.")
    days = list(days_between(first, last))
    KpiDay.objects.bulk_create([KpiDay(day=d) for d in days], ignore_conflicts=True)
    list(KpiDay.objects.select_for_update().filter(day__gte=first, day__lte=last).order_by("day"))

    # Overall: every day gets a row, all figures reset, then each part fills its columns.
    zero = dict.fromkeys(DAILY_METRICS, 0)
    DailyKpi.objects.bulk_create(
        [DailyKpi(day=d, **zero) for d in days],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=DAILY_METRICS,
    )
    for part in selectors.DAILY_PARTS:
        _upsert(DailyKpi, part(first, last), ["day"])
    in_range = {"day__gte": first, "day__lte": last}
    DailyKpi.objects.filter(**in_range).update(
        net_revenue=F("gross_revenue") - F("refunds"),
        gross_profit=F("gross_revenue") - F("refunds") - F("tax") - F("cost_of_goods"),
    )
    DailyKpi.objects.filter(**in_range).update(
        bounce_rate=_ratio(F("bounces"), "sessions"),
        conversion_rate=_ratio(F("orders"), "sessions"),
        average_order_value=_ratio(F("gross_revenue"), "orders"),
        cart_abandonment_rate=_ratio(F("carts_abandoned"), "carts_created"),
        gross_margin=Case(
            When(
                net_revenue__gt=F("tax"),
                then=ExpressionWrapper(
                    F("gross_profit") * Value(Decimal("1.0")) / (F("net_revenue") - F("tax")),
                    output_field=RATE_FIELD,
                ),
            ),
            default=Decimal(0),
            output_field=RATE_FIELD,
        ),
    )

    # Per source and per product: figures reset, refilled, and rows left empty removed
    # (a row keeps its id across re-runs).
    DailySourceKpi.objects.filter(**in_range).update(
        sessions=0, orders=0, revenue=0, conversion_rate=0
    )
    _upsert(DailySourceKpi, selectors.source_sessions(first, last), ["day", "source"])
    _upsert(DailySourceKpi, selectors.source_orders(first, last), ["day", "source"])
    DailySourceKpi.objects.filter(**in_range, sessions=0, orders=0).delete()
    DailySourceKpi.objects.filter(**in_range).update(
        conversion_rate=_ratio(F("orders"), "sessions")
    )
    DailyProductKpi.objects.filter(**in_range).update(views=0, add_to_carts=0, units=0, revenue=0)
    for part in (
        selectors.product_views,
        selectors.product_add_to_carts,
        selectors.product_sales,
    ):
        _upsert(DailyProductKpi, part(first, last), ["day", "product_id"])
    DailyProductKpi.objects.filter(**in_range, views=0, add_to_carts=0, units=0).delete()

    _pause_for_tests()
    KpiDay.objects.filter(day__gte=first, day__lte=last).update(
        rolled_at=timezone.now(), runs=F("runs") + 1
    )
    return len(days)


def kpis_days_due(*, today: date | None = None) -> list[date]:
    """Yesterday, the day before (its carts' 24 hours have now passed), and every day
    since the first visit or order that has never been rolled up."""
    today = today or selectors.store_today()
    yesterday = today - timedelta(days=1)
    due = {yesterday, yesterday - timedelta(days=1)}
    starts = []
    first_order = selectors.Order.objects.order_by("created_at").values_list(
        "created_at", flat=True
    )[:1]
    first_visit = Visit.objects.order_by("started_at").values_list("started_at", flat=True)[:1]
    for found in (list(first_order), list(first_visit)):
        if found:
            starts.append(timezone.localtime(found[0], selectors.store_tz()).date())
    if starts:
        rolled = set(
            KpiDay.objects.filter(rolled_at__isnull=False, day__gte=min(starts)).values_list(
                "day", flat=True
            )
        )
        due |= {d for d in days_between(min(starts), yesterday) if d not in rolled}
    return sorted(d for d in due if d <= yesterday)


def date_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days joined into (first, last) ranges."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def kpis_roll_up_due(
    *, today: date | None = None, progress: Callable[[int], None] | None = None
) -> list[date]:
    """The nightly job: roll up every day due, a range at a time."""
    days = kpis_days_due(today=today)
    for first, last in date_ranges(days):
        kpis_roll_up(first=first, last=last)
        if progress:
            progress((last - first).days + 1)
    return days


# --- visits ---------------------------------------------------------------------------------

VISIT_UPSERT = """
INSERT INTO {visit} (key, visitor_key, started_at, last_seen_at, landing_path, referrer_host,
                     source, utm_source, utm_medium, utm_campaign, device, page_views)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1)
ON CONFLICT (key) DO UPDATE SET page_views = {visit}.page_views + 1,
                                last_seen_at = EXCLUDED.last_seen_at
"""
PRODUCT_VIEW_INSERT = """
INSERT INTO {view} (visit_key, product_id, viewed_at)
SELECT %s, id, %s FROM {product} WHERE slug = %s
"""


def visit_record(*, view: PageView) -> None:
    """Write what one storefront request saw (called after the response went out): the
    visitor on its first page, the visit (one UPSERT), a product view, orders placed."""
    if view.count_page:
        if view.new_visitor:
            Visitor.objects.bulk_create(
                [
                    Visitor(
                        key=view.visitor_key,
                        first_seen_at=view.at,
                        first_source=view.source,
                        first_medium=view.utm_medium,
                        first_campaign=view.utm_campaign,
                    )
                ],
                ignore_conflicts=True,
            )
        with connection.cursor() as cursor:
            cursor.execute(
                VISIT_UPSERT.format(visit=connection.ops.quote_name(Visit._meta.db_table)),
                [
                    view.visit_key,
                    view.visitor_key,
                    view.at,
                    view.at,
                    view.path,
                    view.referrer_host,
                    view.source,
                    view.utm_source,
                    view.utm_medium,
                    view.utm_campaign,
                    view.device,
                ],
            )
            if view.product_slug:
                cursor.execute(
                    PRODUCT_VIEW_INSERT.format(
                        view=ProductView._meta.db_table, product=Product._meta.db_table
                    ),
                    [view.visit_key, view.at, view.product_slug],
                )
    if view.order_ids:
        first_source = (
            Visitor.objects.filter(key=view.visitor_key)
            .values_list("first_source", flat=True)
            .first()
        ) or view.source
        OrderAttribution.objects.bulk_create(
            [
                OrderAttribution(order_id=pk, visit_key=view.visit_key, source=first_source)
                for pk in view.order_ids
            ],
            ignore_conflicts=True,
        )


def order_placed_in_visit(*, order_id: int) -> None:
    """An order was committed while serving a tracked request: credit it to the visit."""
    view = current_page_view.get()
    if view is not None and order_id not in view.order_ids:
        view.order_ids.append(order_id)
