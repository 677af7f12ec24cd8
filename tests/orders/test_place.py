from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.selectors import availability
from orders.models import Cart, Order, OrderEvent, Payment
from orders.services import CheckoutError, order_place
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import TaxRateFactory, ready_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked():
    warehouse = WarehouseFactory()
    variants = [VariantFactory(price=Decimal("10.00")), VariantFactory(price=Decimal("25.00"))]
    for variant in variants:
        stock(variant, warehouse, 5)
    return variants


def test_place_copies_lines_allocates_stock_and_records_customer(stocked):
    TaxRateFactory(country="DE", rate=Decimal("19"))
    first, second = stocked
    cart = ready_cart([(first, 2), (second, 1)])

    order = order_place(cart=cart, ip_address="203.0.113.9")

    assert order.number == str(1000 + order.pk)
    assert order.status == Order.Status.PENDING_PAYMENT
    assert order.subtotal == Decimal("45.00")
    assert order.shipping_total == Decimal("4.90")
    assert order.total == Decimal("49.90")
    # Prices include tax: 19/119 of each line and of shipping, rounded per line.
    assert order.tax_total == Decimal("3.19") + Decimal("3.99") + Decimal("0.78")
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [
        (first.sku, 2),
        (second.sku, 1),
    ]
    assert availability(variant_ids=[first.pk]) == {first.pk: 3}
    assert order.customer.email == "ada@example.net"
    order.customer.refresh_from_db()
    assert order.customer.orders_count == 1
    assert order.customer.total_spent == Decimal("49.90")
    assert Payment.objects.get(order=order).status == Payment.Status.PENDING
    assert order.events.filter(kind=OrderEvent.Kind.PLACED).exists()
    cart.refresh_from_db()
    assert cart.status == Cart.Status.ORDERED


def test_placing_twice_makes_one_order(stocked):
    cart = ready_cart([(stocked[0], 1)])
    first = order_place(cart=cart)
    again = order_place(cart=Cart.objects.get(pk=cart.pk))
    assert first.pk == again.pk
    assert Order.objects.count() == 1


def test_short_stock_names_the_line_and_writes_nothing(stocked):
    cart = ready_cart([(stocked[0], 5)])
    # Someone else takes 3 of them meanwhile (their own cart holds none of ours).
    other = ready_cart([(stocked[1], 1)], email="other@example.net")
    from inventory.models import Reservation

    Reservation.objects.filter(cart_key=cart.token).delete()
    stock_row = stocked[0].stock.get()
    from inventory.services import stock_allocate

    stock_allocate(reference="order:elsewhere", lines={stocked[0].pk: 3})
    with pytest.raises(CheckoutError) as err:
        order_place(cart=cart)
    assert "Only 2 of" in str(err.value)
    assert Order.objects.count() == 0
    stock_row.refresh_from_db()
    assert stock_row.allocated == 3
    assert other.status == Cart.Status.OPEN


def test_missing_details_are_listed(stocked):
    cart = ready_cart([(stocked[0], 1)], payment="")
    with pytest.raises(CheckoutError) as err:
        order_place(cart=cart)
    assert err.value.problems == ["Choose how to pay."]
