"""A slow availability push cannot overwrite a newer one (PostgreSQL, real threads).

The slow push has read "in stock" and waits; meanwhile the last unit is written off and
that change's own push runs. With the products locked from read to write, the newer push
waits for the slow one and writes last; the negative control drops the lock and must see
the stale "in stock" win, which proves the harness can see the race.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

import catalog.services
import inventory.services
from catalog.models import Variant
from inventory.services import availability_push, stock_adjust
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def last_unit():
    variant = VariantFactory()
    stock(variant, WarehouseFactory(), 1)
    availability_push(variant_ids=[variant.pk])
    return variant


def race(variant: Variant, monkeypatch) -> bool:
    """Run the slow push against the write-off and its push; the flag left at the end."""
    slow_has_read, newer_done = threading.Event(), threading.Event()
    real = inventory.services.availability

    def availability(**kwargs):
        result = real(**kwargs)
        if threading.current_thread().name == "slow":
            slow_has_read.set()
            newer_done.wait(timeout=3)  # with the lock the newer push cannot finish first
        return result

    monkeypatch.setattr(inventory.services, "availability", availability)

    def slow() -> None:
        try:
            availability_push(variant_ids=[variant.pk])
        finally:
            connection.close()

    def newer() -> None:
        try:
            assert slow_has_read.wait(timeout=10)
            warehouse = variant.stock.get().warehouse
            stock_adjust(
                variant_id=variant.pk, warehouse=warehouse, delta=-1, reason="damage", note="x"
            )
            availability_push(variant_ids=[variant.pk])
            newer_done.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=slow, name="slow"), threading.Thread(target=newer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    variant.refresh_from_db()
    variant.product.refresh_from_db()
    assert variant.in_stock == variant.product.in_stock
    return variant.in_stock


def test_the_newest_availability_wins(last_unit, monkeypatch):
    assert last_unit.in_stock
    assert race(last_unit, monkeypatch) is False


def test_negative_control_without_the_lock_a_stale_push_wins(last_unit, monkeypatch):
    monkeypatch.setattr(catalog.services, "availability_lock", lambda **kwargs: None)
    assert race(last_unit, monkeypatch) is True, "the harness did not see the race"
