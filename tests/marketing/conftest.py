"""Marketing fixtures: a settable clock, stocked variants, and carts left alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Cart
from orders.services import cart_add, cart_checkout_update, cart_create
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock


class Clock:
    """A frozen clock: every timezone.now() returns `now` until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def at(self, start: datetime, **delta: float) -> datetime:
        self.now = start + timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    # Services call timezone.now() through the module, so patching it freezes them all.
    frozen = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(0)))
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def variants(db):
    warehouse = WarehouseFactory()
    found = [
        VariantFactory(price=Decimal("10.00"), product__title="Linen apron"),
        VariantFactory(price=Decimal("25.00"), product__title="Oak board"),
    ]
    for variant in found:
        stock(variant, warehouse, 50)
    return found


@pytest.fixture
def left_cart(variants):
    """make(email=..., items=[(variant, qty)]): a cart with an email and items, as the
    checkout leaves it when the shopper walks away (updated now)."""

    def make(email: str = "ada@example.net", items=None) -> Cart:
        cart = cart_create()
        for variant, quantity in items or [(variants[0], 2), (variants[1], 1)]:
            cart_add(cart=cart, variant_id=variant.pk, quantity=quantity)
        if email:
            cart_checkout_update(cart=cart, email=email)
        return Cart.objects.get(pk=cart.pk)

    return make
