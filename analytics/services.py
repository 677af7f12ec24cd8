"""Writes for analytics: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.db.models import F, Max, Model
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
from orders.models import Order


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


def _ratio(numerator: str, denominator: str) -> str:
    # "* 1.0" makes both databases divide as decimals (SQLite would divide integers).
    return f"CASE WHEN {denominator} > 0 THEN {numerator} * 1.0 / {denominator} ELSE 0 END"


DAILY_DERIVED = {
    "net_revenue": "gross_revenue - refunds",
    "gross_profit": "gross_revenue - refunds - tax - cost_of_goods",
    "bounce_rate": _ratio("bounces", "sessions"),
    "conversion_rate": _ratio("orders", "sessions"),
    "average_order_value": _ratio("gross_revenue", "orders"),
    "cart_abandonment_rate": _ratio("carts_abandoned", "carts_created"),
    "gross_margin": (
        "CASE WHEN gross_revenue - refunds - tax > 0 THEN (gross_revenue - refunds - tax "
        "- cost_of_goods) * 1.0 / (gross_revenue - refunds - tax) ELSE 0 END"
    ),
}
SOURCE_DERIVED = {"conversion_rate": _ratio("orders", "sessions")}
TEMP = "analytics_rollup_parts"
SERIAL_DAYS = 3


def _replace_range(
    model: type[Model],
    *,
    parts: list[selectors.Aggregation],
    keys: list[str],
    derived: dict[str, str],
    first: date,
    last: date,
    stale: str,
) -> None:
    """Make the model's rows for days first..last equal to the sum of `parts`.

    One pass: the parts (grouped querysets) are added up by key into a temporary table,
    which is then INSERT ... SELECT ... ON CONFLICT DO UPDATE'd into the table (a row
    whose figures did not change is not rewritten); rows of the range the parts no
    longer produce are deleted (stale="delete") or zeroed (stale="zero").
    """
    quote = connection.ops.quote_name
    metrics = [
        f.column
        for f in model._meta.concrete_fields
        if not f.primary_key and f.column not in keys and f.column not in derived
    ]
    selects, params = [], []
    for part in parts:
        sql, part_params = part.queryset.query.sql_with_params()
        columns = [f"agg.{quote(part.columns[k])} AS {quote(k)}" for k in keys] + [
            f"agg.{quote(part.columns[m])} AS {quote(m)}" if m in part.columns else f"0 AS {m}"
            for m in metrics
        ]
        selects.append(f"SELECT {', '.join(columns)} FROM ({sql}) agg")  # noqa: S608
        params.extend(part_params)
    key_list = ", ".join(quote(k) for k in keys)
    sums = ", ".join(f"COALESCE(SUM({quote(m)}), 0) AS {quote(m)}" for m in metrics)
    table = quote(model._meta.db_table)
    targets = [*keys, *metrics, *derived]
    values = [quote(c) for c in (*keys, *metrics)] + [f"({e})" for e in derived.values()]
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(
        f"{table}.{quote(c)} {distinct} EXCLUDED.{quote(c)}" for c in (*metrics, *derived)
    )
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in (*metrics, *derived))
    missing = (
        f"{table}.day >= %s AND {table}.day <= %s AND NOT EXISTS (SELECT 1 FROM {TEMP} t "  # noqa: S608
        f"WHERE {' AND '.join(f't.{quote(k)} = {table}.{quote(k)}' for k in keys)})"
    )
    parts_sql = (
        f"SELECT {key_list}, {sums} FROM ({' UNION ALL '.join(selects)}) u GROUP BY {key_list}"  # noqa: S608
    )
    upsert = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in targets)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {TEMP} WHERE true "
        f"ON CONFLICT ({key_list}) DO UPDATE SET {updates} WHERE {changed}"
    )
    if stale == "delete":
        clear = f"DELETE FROM {table} WHERE {missing}"  # noqa: S608
    else:
        zero = ", ".join(f"{quote(c)} = 0" for c in (*metrics, *derived))
        clear = f"UPDATE {table} SET {zero} WHERE {missing}"  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the parts as a CTE, the upsert and the clean-up beside it
            # (they touch different rows, and both see the table as it was).
            cursor.execute(
                f"WITH {TEMP} AS MATERIALIZED ({parts_sql}), "
                f"upserted AS ({upsert} RETURNING 1) {clear}",
                [*params, first, last],
            )
            return
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")
        cursor.execute(f"CREATE TEMPORARY TABLE {TEMP} AS {parts_sql}", params)
        cursor.execute(upsert)
        cursor.execute(clear, [first, last])
        cursor.execute(f"DROP TABLE {TEMP}")


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@transaction.atomic
def kpis_roll_up(*, first: date, last: date) -> int:
    """Roll the store days first..last into the daily tables; returns the number of days.

    Set-based: each table gets one INSERT ... SELECT ... ON CONFLICT DO UPDATE over the
    whole range (see _replace_range). The days' claim rows are locked for the
    transaction, so two runs of the same days (beat and a person at the command line)
    take turns, and either one leaves the same rows.
    """
    if first > last:
        raise RollupError(f"The range starts after it ends: {first} > {last}.")
    days = list(days_between(first, last))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Planner settings for this transaction only: random reads cost about what
            # sequential ones do on SSD storage (without this a day's few thousand orders
            # are joined by scanning whole tables), and a short range is too small to be
            # worth parallel workers.
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            if len(days) <= SERIAL_DAYS:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    KpiDay.objects.bulk_create([KpiDay(day=d) for d in days], ignore_conflicts=True)
    list(KpiDay.objects.select_for_update().filter(day__gte=first, day__lte=last).order_by("day"))
    # Every day has an overall row, even a day with nothing in it.
    DailyKpi.objects.bulk_create([DailyKpi(day=d) for d in days], ignore_conflicts=True)
    _replace_range(
        DailyKpi,
        parts=[part(first, last) for part in selectors.DAILY_PARTS],
        keys=["day"],
        derived=DAILY_DERIVED,
        first=first,
        last=last,
        stale="zero",
    )
    _replace_range(
        DailySourceKpi,
        parts=[selectors.source_sessions(first, last), selectors.source_orders(first, last)],
        keys=["day", "source"],
        derived=SOURCE_DERIVED,
        first=first,
        last=last,
        stale="delete",
    )
    _replace_range(
        DailyProductKpi,
        parts=[
            selectors.product_views(first, last),
            selectors.product_add_to_carts(first, last),
            selectors.product_sales(first, last),
        ],
        keys=["day", "product_id"],
        derived={},
        first=first,
        last=last,
        stale="delete",
    )
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
    first_order = Order.objects.order_by("created_at").values_list("created_at", flat=True)[:1]
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
    # An order counts on the day it was placed, once paid: a bank transfer paid days
    # later, or a later cancel, changes that day. Every order touched since the last run
    # sends its day round again (one query for the distinct days).
    last_run = KpiDay.objects.aggregate(last=Max("rolled_at"))["last"]
    if last_run is not None:
        touched = Order.objects.filter(updated_at__gte=last_run).datetimes(
            "created_at", "day", tzinfo=selectors.store_tz()
        )
        due |= {moment.date() for moment in touched}
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
    visitor on its first page, the visit (one UPSERT), a product view, orders placed.

    One transaction; on PostgreSQL it commits without waiting for the disk
    (synchronous_commit off, for this transaction only): a visit lost in a database crash
    costs nothing, and the wait would otherwise be most of the middleware's cost."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        _visit_write(view)


def _visit_write(view: PageView) -> None:
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
