from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import StockLevel
from orders.models import Order, Refund
from orders.refunds import refund_create
from orders.services import OrderError, order_mark_paid, order_place
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order():
    warehouse = WarehouseFactory()
    first, second = VariantFactory(price=Decimal("10.00")), VariantFactory(price=Decimal("30.00"))
    stock(first, warehouse, 5)
    stock(second, warehouse, 5)
    order = order_place(cart=ready_cart([(first, 2), (second, 1)]))
    order_mark_paid(order=order, actor=StaffFactory())
    order.refresh_from_db()
    return order


def test_refund_one_line_with_restock_releases_its_allocation(paid_order):
    line = paid_order.lines.get(quantity=2)
    refund = refund_create(order=paid_order, lines={line.pk: 1}, restock=True, reason="Broken")

    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.amount == Decimal("10.00")
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == Decimal("10.00")
    assert paid_order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert StockLevel.objects.get(variant_id=line.variant_id).allocated == 1
    line.refresh_from_db()
    assert line.quantity_refunded == 1


def test_full_refund_moves_the_order_to_refunded(paid_order):
    refund_create(order=paid_order, amount=paid_order.paid_total)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.REFUNDED
    assert paid_order.payment_status == Order.PaymentStatus.REFUNDED


def test_refund_above_what_was_paid_is_refused_and_writes_nothing(paid_order):
    with pytest.raises(OrderError, match=r"At most 54\.90"):
        refund_create(order=paid_order, amount=Decimal("100"))
    line = paid_order.lines.first()
    with pytest.raises(OrderError, match="can still be refunded"):
        refund_create(order=paid_order, lines={line.pk: line.quantity + 1})
    assert not Refund.objects.exists()
