"""Two presses of "reorder" at the same moment draft one purchase order (PostgreSQL).

Real threads with their own connections, released together by a barrier; the negative
control takes the row locks away and must see two drafts.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from inventory import purchasing
from inventory.alerts import stock_alerts_check
from inventory.models import PurchaseOrder, StockAlert, StockLevel, Supplier, SupplierItem
from inventory.purchasing import purchase_orders_from_alerts
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PRESSES = 4


@pytest.fixture
def alert():
    supplier = Supplier.objects.create(name="Forge & Field")
    variant = VariantFactory()
    SupplierItem.objects.create(
        supplier=supplier, variant=variant, unit_cost=Decimal("16.00"), is_preferred=True
    )
    level = stock(variant, WarehouseFactory(), 1)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=5, reorder_quantity=20)
    stock_alerts_check()
    return StockAlert.objects.get()


def press_at_once(alert: StockAlert) -> None:
    barrier = threading.Barrier(PRESSES)

    def press(_: int) -> None:
        try:
            barrier.wait(timeout=30)
            purchase_orders_from_alerts(alerts=[alert])
        finally:
            connection.close()

    with ThreadPoolExecutor(PRESSES) as pool:
        list(pool.map(press, range(PRESSES)))


@pytest.fixture
def slow_create(monkeypatch):
    """Each press waits between finding no draft and making one: a race would show."""
    real_create = purchasing.purchase_order_create

    def slow(**kwargs):
        time.sleep(0.3)
        return real_create(**kwargs)

    monkeypatch.setattr(purchasing, "purchase_order_create", slow)


def test_presses_at_the_same_moment_draft_one_order(alert, slow_create):
    press_at_once(alert)
    assert PurchaseOrder.objects.count() == 1
    assert PurchaseOrder.objects.get().lines.get().quantity_ordered == 20
    alert.refresh_from_db()
    assert alert.purchase_order == PurchaseOrder.objects.get()


def test_negative_control_without_the_locks_presses_draft_twice(alert, slow_create, monkeypatch):
    monkeypatch.setattr(purchasing, "_lock_rows", lambda model, pks: None)
    press_at_once(alert)
    assert PurchaseOrder.objects.count() > 1, "the harness did not see the race"
