"""An alert never stays open for stock that recovered while it was being opened
(PostgreSQL, real threads).

The alert check has read the stock as low and is about to insert; a delivery arrives in
another connection. With the stock rows locked from the re-read to the insert, the
delivery waits, commits after the alert, and its own check closes it. The negative control
drops the lock: the delivery's check runs before the alert is committed, finds nothing to
close, and the alert stays open for stock that is no longer low.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from inventory import alerts
from inventory.alerts import stock_alerts_check
from inventory.models import StockAlert, StockLevel
from inventory.services import stock_adjust, stock_allocate, stock_ship
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running_low():
    variant = VariantFactory()
    level = stock(variant, WarehouseFactory(), 10)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=5)
    stock_allocate(reference="order:1", lines={variant.pk: 6})
    stock_ship(reference="order:1")  # 4 left: low, no alert yet (no beat has run)
    StockAlert.objects.all().delete()
    return variant


def race(variant, monkeypatch) -> list[StockAlert]:
    about_to_insert, delivered = threading.Event(), threading.Event()
    real = alerts.reorder_suggestions

    def suggestions(**kwargs):
        result = real(**kwargs)
        if threading.current_thread().name == "check":
            about_to_insert.set()
            delivered.wait(timeout=3)  # with the lock the delivery cannot finish first
        return result

    monkeypatch.setattr(alerts, "reorder_suggestions", suggestions)

    def check() -> None:
        try:
            stock_alerts_check(variant_ids=[variant.pk])
        finally:
            connection.close()

    def delivery() -> None:
        try:
            assert about_to_insert.wait(timeout=10)
            warehouse = variant.stock.get().warehouse
            # Its own alert check runs when it commits (tasks are eager in tests).
            stock_adjust(variant_id=variant.pk, warehouse=warehouse, delta=20, reason="receipt")
            delivered.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=check, name="check"), threading.Thread(target=delivery)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert StockLevel.objects.get(variant=variant).on_hand == 24
    return list(StockAlert.objects.filter(resolved_at__isnull=True))


def test_an_alert_opened_as_stock_arrives_is_closed_by_the_arrival(running_low, monkeypatch):
    assert race(running_low, monkeypatch) == []


def test_negative_control_without_the_lock_the_alert_stays_open(running_low, monkeypatch):
    monkeypatch.setattr(alerts, "lock_stock", lambda variant_ids: None)
    assert len(race(running_low, monkeypatch)) == 1, "the harness did not see the race"
