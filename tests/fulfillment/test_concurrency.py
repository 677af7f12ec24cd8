"""Packers racing on one order, on PostgreSQL with real threads and their own connections.

Eight scans of the same SKU for an order of two must pack exactly two; four clicks on
"Ship" must ship the parcel once. The negative control takes the parcel's row lock away
and must see more scans accepted than units ordered, proving the harness sees the race.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from fulfillment import services as fulfillment_services
from fulfillment.models import Shipment, ShipmentLine
from fulfillment.services import ShipmentError, shipment_scan, shipment_ship
from inventory.models import StockMovement
from orders.models import Order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PACKERS = 8


def race(count: int, work) -> list[bool]:
    barrier = threading.Barrier(count)

    def one(_: int) -> bool:
        try:
            barrier.wait(timeout=60)
            try:
                work()
            except ShipmentError:
                return False
            return True
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_racing_scans_pack_exactly_what_was_ordered(make_order, warehouse):
    order = make_order()  # two shirts, one mug

    results = race(
        PACKERS,
        lambda: shipment_scan(
            order=Order.objects.get(pk=order.pk), warehouse=warehouse, code="SHIRT-S"
        ),
    )
    assert results.count(True) == 2
    assert Shipment.objects.count() == 1
    assert ShipmentLine.objects.get(sku="SHIRT-S").quantity == 2


def test_racing_ship_clicks_ship_once(make_order, warehouse, carrier):
    order = make_order()
    shipment = shipment_scan(order=order, warehouse=warehouse, code="MUG-1").shipment
    service = carrier.service["standard"]
    results = race(
        4, lambda: shipment_ship(shipment=Shipment.objects.get(pk=shipment.pk), service=service)
    )
    assert results.count(True) == 1
    assert StockMovement.objects.filter(reason="sale").count() == 1


def test_negative_control_without_the_parcel_lock_too_many_scans_pass(
    make_order, warehouse, monkeypatch
):
    order = make_order()
    real_rows = fulfillment_services.packable_lines

    def unlocked(order, warehouse, actor):
        found = Shipment.objects.filter(order=order, warehouse=warehouse, status="ready").first()
        if found is None:
            try:
                found = Shipment.objects.create(order=order, warehouse=warehouse)
            except Exception:
                connection.rollback()
                raise ShipmentError("collision") from None
        return found

    def slow_rows(**kwargs):
        rows = real_rows(**kwargs)
        time.sleep(0.05)  # every packer reads before any writes
        return rows

    Shipment.objects.create(order=order, warehouse=warehouse)  # the parcel exists already
    monkeypatch.setattr(fulfillment_services, "_open_pack", unlocked)
    monkeypatch.setattr(fulfillment_services, "packable_lines", slow_rows)
    results = race(
        PACKERS,
        lambda: shipment_scan(
            order=Order.objects.get(pk=order.pk), warehouse=warehouse, code="SHIRT-S"
        ),
    )
    assert results.count(True) > 2, "the harness did not see the race it exists to see"
