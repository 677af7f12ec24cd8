from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.reports import delivery_performance, returns_report
from fulfillment.returns import return_decide, return_request_create
from fulfillment.services import shipment_scan, shipment_ship, shipment_transition
from orders.models import Order
from orders.services import order_hold

pytestmark = pytest.mark.django_db


def at(day: int, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, 3, day, hour))


@pytest.fixture
def history(settings, make_order, warehouse, carrier):
    """Three parcels with known times (see each line); today is Wednesday 18 March."""
    settings.TIME_ZONE = "UTC"
    settings.FULFILLMENT_CUTOFF = "14:00"
    plan = [
        # paid, shipped, delivered, promised, service
        (at(9, 10), at(9, 16), at(11, 16), datetime.date(2026, 3, 12), "standard"),
        (at(10, 15), at(11, 9), at(15, 9), datetime.date(2026, 3, 14), "express"),
        (at(16, 9), at(17, 11), None, datetime.date(2026, 3, 17), "standard"),
    ]
    for paid, shipped, delivered, promised, service in plan:
        order = make_order()
        line = shipment_scan(order=order, warehouse=warehouse, code="MUG-1")
        shipment = shipment_ship(shipment=line.shipment, service=carrier.service[service])
        if delivered:
            shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
        Order.objects.filter(pk=order.pk).update(paid_at=paid)
        Shipment.objects.filter(pk=shipment.pk).update(
            shipped_at=shipped, delivered_at=delivered, promised_by=promised
        )
    return datetime.date(2026, 3, 18)


def test_delivery_figures_by_week_and_service(history):
    report = delivery_performance(weeks=2, today=history)
    first, second = report["weeks"]
    assert first.label == "2026-03-09"
    assert (first.shipped, first.avg_hours_to_ship, first.avg_transit_days) == (2, 12.0, 3.0)
    assert first.on_time_rate == 0.5
    assert first.same_day_rate == 1.0  # only the first order was paid before the cut-off
    assert (second.shipped, second.avg_hours_to_ship, second.avg_transit_days) == (1, 26.0, None)
    assert second.on_time_rate == 0.0  # past its promise, still not delivered
    assert second.same_day_rate == 0.0
    total = report["total"]
    assert total.shipped == 3
    assert round(total.avg_hours_to_ship, 2) == 16.67
    assert (total.on_time, total.judged, total.same_day, total.before_cutoff) == (1, 3, 1, 2)
    services = {row.label: row for row in report["services"]}
    assert services["Parcel Co Standard"].shipped == 2
    assert services["Parcel Co Standard"].on_time_rate == 0.5
    assert services["Parcel Co Express"].avg_transit_days == 4.0
    assert services["Parcel Co Express"].on_time_rate == 0.0


def test_delivery_report_ignores_older_parcels(history):
    report = delivery_performance(weeks=1, today=history)
    assert report["total"].shipped == 1


def test_return_rate_and_reasons_by_product(make_order, warehouse, carrier):
    order = make_order()  # 2 shirts and a mug
    for code, quantity in (("SHIRT-S", 2), ("MUG-1", 1)):
        line = shipment_scan(order=order, warehouse=warehouse, code=code, quantity=quantity)
    shipment = shipment_ship(shipment=line.shipment, service=carrier.service["standard"])
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    make_order()  # paid, not shipped: sells nothing yet
    shirt, mug = order.lines.get(sku="SHIRT-S"), order.lines.get(sku="MUG-1")
    return_request_create(order=order, lines={shirt.pk: 1}, reason="too_small")
    rejected = return_request_create(order=order, lines={mug.pk: 1}, reason="changed_mind")
    return_decide(return_request=rejected, approve=False, message="Used.")

    report = returns_report(since=timezone.localdate() - datetime.timedelta(days=1))
    rows = {row.product: row for row in report["products"]}
    assert (rows["Linen Shirt"].sold, rows["Linen Shirt"].returned) == (2, 1)
    assert rows["Linen Shirt"].rate == 0.5
    assert rows["Linen Shirt"].top_reason == "Too small"
    assert (rows["Stoneware Mug"].sold, rows["Stoneware Mug"].returned) == (1, 0)
    assert (report["sold"], report["returned"], report["rate_percent"]) == (3, 1, 33.3)
    assert report["reasons"] == [{"label": "Too small", "count": 1}]


def test_queue_command_prints_and_exports_the_days_queue(make_order, warehouse, settings):
    settings.FULFILLMENT_CUTOFF = "23:59"
    due, held = make_order(), make_order()
    order_hold(order=held, reason="Fraud check")
    out = StringIO()
    call_command("fulfillment_queue", "--warehouse", "main", stdout=out)
    text = out.getvalue()
    assert "Main warehouse (main)" in text
    assert due.number in text
    assert "[Fraud check]" in text
    out = StringIO()
    call_command("fulfillment_queue", "--warehouse", "main", "--csv", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "order,paid_at,ship_by,units,shipping,status,hold_reason"
    assert lines[1].startswith(f"{due.number},")
    assert lines[2].endswith("on hold,Fraud check")
    with pytest.raises(CommandError, match="No warehouse 'nope'; there are: main"):
        call_command("fulfillment_queue", "--warehouse", "nope")


def test_queue_command_leaves_out_orders_paid_after_the_cutoff(make_order, warehouse, settings):
    order = make_order()
    late_evening = timezone.localtime().replace(hour=20, minute=0)
    Order.objects.filter(pk=order.pk).update(paid_at=late_evening)
    settings.FULFILLMENT_CUTOFF = "14:00"
    out = StringIO()
    call_command("fulfillment_queue", "--warehouse", "main", stdout=out)
    assert order.number not in out.getvalue()
    out = StringIO()
    call_command("fulfillment_queue", "--warehouse", "main", "--all", stdout=out)
    assert order.number in out.getvalue()


def test_delay_command_and_beat_entry(make_order, warehouse, carrier, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["fulfillment-delay-notices"]
    assert schedule["task"] == "fulfillment.tasks.shipment_delays_notify_task"
    line = shipment_scan(order=make_order(), warehouse=warehouse, code="MUG-1")
    shipment = shipment_ship(shipment=line.shipment, service=carrier.service["standard"])
    Shipment.objects.filter(pk=shipment.pk).update(promised_by=datetime.date(2020, 1, 1))
    out = StringIO()
    call_command("fulfillment_delays", stdout=out)
    assert out.getvalue().startswith("1 late parcel(s)")


def test_a_bad_cutoff_stops_start_up_with_its_name():
    from tests.config.test_settings import manage

    result = manage("check", FULFILLMENT_CUTOFF="2pm")
    assert result.returncode != 0
    assert "FULFILLMENT_CUTOFF must be a time as HH:MM" in result.stderr
    assert manage("check", FULFILLMENT_CUTOFF="17:30").returncode == 0
