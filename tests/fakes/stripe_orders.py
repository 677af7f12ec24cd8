"""An order paid by card, its PaymentIntent created on the local Stripe fake."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.models import Order
from orders.payments import provider_for
from orders.services import order_place
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart


def stripe_order_place(*, quantity: int = 2, email: str = "ada@example.net") -> Order:
    """A card order (19.99 a unit plus 4.90 shipping) whose PaymentIntent exists."""
    variant = VariantFactory(price=Decimal("19.99"))
    stock(variant, WarehouseFactory(), 10)
    order = order_place(cart=ready_cart([(variant, quantity)], payment="stripe", email=email))
    provider_for("stripe").start(payment=order.payments.get())
    order.refresh_from_db()
    return order


@pytest.fixture(name="stripe_order")
def stripe_order_fixture(stripe_fake) -> Order:
    return stripe_order_place()
