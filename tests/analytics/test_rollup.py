from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from analytics.models import DailyKpi, DailyProductKpi, DailySourceKpi, KpiDay
from analytics.services import RollupError, kpis_days_due, kpis_roll_up

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 10)


def rows():
    return (
        list(DailyKpi.objects.order_by("day").values()),
        list(DailySourceKpi.objects.order_by("day", "source").values()),
        list(DailyProductKpi.objects.order_by("day", "product").values()),
    )


def test_figures_of_a_known_day_match_the_hand_computed_ones(known_day):
    kpis_roll_up(first=DAY, last=DAY)
    kpi = DailyKpi.objects.get(day=DAY)
    # Counted orders: a (100), b (50), e (30, created 00:30 Berlin); c is unpaid, d cancelled.
    assert kpi.orders == 3
    assert kpi.gross_revenue == Decimal("180.00")
    assert kpi.refunds == Decimal("20.00")
    assert kpi.net_revenue == Decimal("160.00")
    assert kpi.average_order_value == Decimal("60.00")  # 180 / 3
    assert kpi.units == 5  # a: 2 + 1, b: 1, e: 1
    assert (kpi.new_customers, kpi.returning_customers) == (2, 1)
    assert (kpi.discounts, kpi.tax, kpi.shipping) == (Decimal(10), Decimal(18), Decimal(10))
    assert kpi.cost_of_goods == Decimal("70.00")
    assert kpi.gross_profit == Decimal("72.00")  # 160 - 18 tax - 70 cost
    assert kpi.gross_margin == Decimal("0.5070")  # 72 / (160 - 18)
    assert (kpi.sessions, kpi.bounces) == (4, 2)
    assert kpi.bounce_rate == Decimal("0.5000")
    assert kpi.conversion_rate == Decimal("0.7500")  # 3 orders / 4 sessions
    # Carts with items made on the 10th: a, b, c, d, x, y (e's was made on the 10th too).
    assert kpi.carts_created == 7
    assert kpi.carts_abandoned == 2  # x never ordered, y ordered after 30 hours
    assert kpi.cart_abandonment_rate == Decimal("0.2857")  # 2 / 7
    assert kpi.checkouts_started == 5
    assert kpi.product_views == 4
    assert kpi.add_to_carts == 8

    sources = {row.source: row for row in DailySourceKpi.objects.filter(day=DAY)}
    assert set(sources) == {"google", "direct", "(none)"}
    assert (sources["google"].sessions, sources["google"].orders) == (2, 1)
    assert sources["google"].revenue == Decimal("100.00")
    assert sources["google"].conversion_rate == Decimal("0.5000")
    assert (sources["(none)"].orders, sources["(none)"].revenue) == (2, Decimal("80.00"))
    assert (sources["direct"].sessions, sources["direct"].orders) == (2, 0)

    products = {row.product_id: row for row in DailyProductKpi.objects.filter(day=DAY)}
    p1, p2 = products[known_day["p1"].pk], products[known_day["p2"].pk]
    assert (p1.views, p1.add_to_carts, p1.units, p1.revenue) == (3, 5, 3, Decimal("30.00"))
    assert (p2.views, p2.add_to_carts, p2.units, p2.revenue) == (1, 3, 2, Decimal("60.00"))


def test_rerunning_gives_identical_rows_and_a_changed_fact_replaces_the_old(known_day):
    kpis_roll_up(first=date(2026, 3, 9), last=date(2026, 3, 11))
    first = rows()
    kpis_roll_up(first=date(2026, 3, 9), last=date(2026, 3, 11))
    kpis_roll_up(first=DAY, last=DAY)
    assert rows() == first
    assert DailyKpi.objects.count() == 3
    assert KpiDay.objects.get(day=DAY).runs == 3
    # The 9th and 11th have rows of their own (the 11th: one session, no orders).
    eleventh = DailyKpi.objects.get(day=date(2026, 3, 11))
    assert (eleventh.sessions, eleventh.orders, eleventh.bounce_rate) == (1, 0, Decimal(0))
    assert DailyKpi.objects.get(day=date(2026, 3, 9)).orders == 0

    from orders.models import Order

    Order.objects.filter(email="b@example.net").update(status=Order.Status.CANCELLED)
    kpis_roll_up(first=DAY, last=DAY)
    assert DailyKpi.objects.get(day=DAY).orders == 2
    assert not DailySourceKpi.objects.filter(day=DAY, source="(none)", orders=2).exists()


def test_a_range_that_ends_before_it_starts_is_refused_and_writes_nothing(db):
    with pytest.raises(RollupError):
        kpis_roll_up(first=DAY, last=date(2026, 3, 1))
    assert not KpiDay.objects.exists()


def test_command_backfills_with_a_progress_bar(known_day, capsys):
    call_command("rollup_kpis", "--from", "2026-01-01", "--to", "2026-03-11")
    out = capsys.readouterr().out
    assert "[" in out
    assert "70/70 days" in out
    assert "31/70 days" in out
    assert DailyKpi.objects.count() == 70
    assert DailyKpi.objects.get(day=DAY).orders == 3


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2026-13-01"],
        ["--from", "2026-03-10", "--to", "2026-03-01"],
        ["--to", "2026-03-01"],
    ],
)
def test_command_refuses_bad_dates_and_writes_nothing(db, args):
    with pytest.raises(CommandError):
        call_command("rollup_kpis", *args)
    assert not DailyKpi.objects.exists()


def test_nightly_rolls_yesterday_and_every_missing_day(known_day):
    # Data starts on the 10th (Berlin): the 10th was rolled already, the 11th not.
    assert kpis_days_due(today=date(2026, 3, 14))[0] == DAY
    kpis_roll_up(first=DAY, last=DAY)
    due = kpis_days_due(today=date(2026, 3, 14))
    assert due == [date(2026, 3, 11), date(2026, 3, 12), date(2026, 3, 13)]
    # Rolled days are due again only as yesterday or the day before (carts settle).
    assert kpis_days_due(today=date(2026, 3, 12)) == [DAY, date(2026, 3, 11)]
    call_command("rollup_kpis")  # no dates: the nightly job; today is the real today
    from analytics.tasks import kpis_rollup_task

    kpis_rollup_task.delay()
    assert DailyKpi.objects.filter(day=date(2026, 3, 11)).exists()


def test_the_nightly_rollup_is_scheduled_once_at_two_in_the_store_time_zone(settings):
    from config.celery import app

    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "analytics.tasks.kpis_rollup_task"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert (schedule.hour, schedule.minute) == ({2}, {0})
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE
    assert "analytics.tasks.kpis_rollup_task" in app.tasks
