"""Many shoppers check out the last units at once: exactly as many orders as units.

Real threads with their own PostgreSQL connections, released together by a barrier, each
placing its own cart. The carts' holds have expired (they were made before the race), so
placement itself must decide who gets the stock. The negative control removes inventory's
row lock and must see more orders than units, proving the harness can see the race.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from inventory import services as inventory_services
from inventory.models import Allocation, Reservation, StockLevel
from orders.models import Cart, Order
from orders.services import CheckoutError, order_place
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ShippingMethodFactory, ready_cart

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SHOPPERS = 40
UNITS = 10


@pytest.fixture
def carts():
    variant = VariantFactory()
    stock(variant, WarehouseFactory(), SHOPPERS)
    method = ShippingMethodFactory()
    made = [
        ready_cart([(variant, 1)], email=f"shopper{n}@example.net", method=method)
        for n in range(SHOPPERS)
    ]
    # The holds ran out while they hesitated, and most of the stock went elsewhere.
    Reservation.objects.all().delete()
    level = StockLevel.objects.get(variant=variant)
    inventory_services.stock_adjust(
        variant_id=variant.pk,
        warehouse=level.warehouse,
        delta=-(SHOPPERS - UNITS),
        reason="damage",
        note="water leak",
    )
    return variant, [cart.pk for cart in made]


def race(cart_ids: list[int]) -> list[bool]:
    barrier = threading.Barrier(len(cart_ids))

    def shopper(cart_id: int) -> bool:
        try:
            cart = Cart.objects.get(pk=cart_id)
            barrier.wait(timeout=60)
            try:
                order_place(cart=cart)
            except CheckoutError:
                return False
            return True
        finally:
            connection.close()

    with ThreadPoolExecutor(len(cart_ids)) as pool:
        return list(pool.map(shopper, cart_ids))


@pytest.mark.parametrize("round_", range(2))
def test_shoppers_racing_for_the_last_units_make_exactly_that_many_orders(carts, round_):
    variant, cart_ids = carts
    results = race(cart_ids)
    assert results.count(True) == UNITS
    assert Order.objects.count() == UNITS
    level = StockLevel.objects.get(variant=variant)
    assert level.allocated == level.on_hand == UNITS
    assert Allocation.objects.aggregate(total=Sum("quantity"))["total"] == UNITS
    # The losers' carts are still open, for them to change.
    assert Cart.objects.filter(status=Cart.Status.OPEN).count() == SHOPPERS - UNITS


def test_negative_control_without_the_lock_more_orders_than_units(carts, monkeypatch):
    _, cart_ids = carts

    def unlocked(variant_ids, *, active_only=True):
        rows = StockLevel.objects.filter(variant_id__in=set(variant_ids))
        return list(rows.select_related("warehouse").order_by("pk"))

    real_held = inventory_services._held

    def slow_held(*args, **kwargs):
        held = real_held(*args, **kwargs)
        time.sleep(0.05)  # every shopper reads before any writes
        return held

    monkeypatch.setattr(inventory_services, "_lock", unlocked)
    monkeypatch.setattr(inventory_services, "_held", slow_held)
    results = race(cart_ids)
    assert results.count(True) > UNITS, "the harness did not see the race it exists to see"
