from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.models import OrderAttribution, ProductView, Visit
from customers.models import Customer
from orders.models import Cart, CartLine, Order, Refund
from orders.refunds import refund_create
from orders.services import cart_add, cart_create, order_mark_paid, order_place
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int, minute: int = 0, tz=BERLIN) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=tz)


def visit(key: str, started, pages: int, source: str, visitor: str = "v" * 32) -> Visit:
    return Visit.objects.create(
        key=key.ljust(32, "0"),
        visitor_key=visitor,
        started_at=started,
        last_seen_at=started,
        landing_path="/",
        source=source,
        device="desktop",
        page_views=pages,
    )


@pytest.fixture
def known_day(settings):
    """Store day 2026-03-10 (Berlin), figures worked out by hand in test_rollup.py."""
    settings.TIME_ZONE = "Europe/Berlin"
    warehouse = WarehouseFactory()
    p1 = VariantFactory(price=Decimal("10.00"))
    p2 = VariantFactory(price=Decimal("30.00"))
    stock(p1, warehouse, 100)
    stock(p2, warehouse, 100)
    staff = StaffFactory()

    def place(items, email, created, figures, *, paid=True, status=None, first_order_at=None):
        cart = ready_cart(items, email=email)
        order = order_place(cart=cart)
        if paid:
            order_mark_paid(order=order, actor=staff)
        Order.objects.filter(pk=order.pk).update(
            created_at=created, **figures, **({"status": status} if status else {})
        )
        Cart.objects.filter(pk=cart.pk).update(
            created_at=created, checkout_started_at=created, ordered_at=created
        )
        CartLine.objects.filter(cart=cart).update(added_at=created)
        Customer.objects.filter(pk=order.customer_id).update(
            first_order_at=first_order_at or created
        )
        return Order.objects.get(pk=order.pk)

    def money(total, tax, shipping, discount, cost):
        return {
            "total": Decimal(total),
            "tax_total": Decimal(tax),
            "shipping_total": Decimal(shipping),
            "discount_total": Decimal(discount),
            "cost_total": Decimal(cost),
        }

    a = place([(p1, 2), (p2, 1)], "a@example.net", at(10, 10), money(100, 10, 5, 0, 40))
    place(
        [(p1, 1)],
        "b@example.net",
        at(10, 12),
        money(50, 5, 5, 10, 20),
        first_order_at=at(1, 9),
    )
    # 23:30 UTC on the 9th is 00:30 on the 10th in Berlin: it counts on the 10th.
    place([(p2, 1)], "e@example.net", at(9, 23, 30, tz=ZoneInfo("UTC")), money(30, 3, 0, 0, 10))
    place([(p1, 1)], "c@example.net", at(10, 13), money(80, 8, 0, 0, 30), paid=False)
    place(
        [(p2, 1)],
        "d@example.net",
        at(10, 14),
        money(90, 9, 0, 0, 30),
        status=Order.Status.CANCELLED,
    )
    # Refunded on the 10th: 20 off order a.
    refund = refund_create(order=a, amount=Decimal("20.00"))
    Refund.objects.filter(pk=refund.pk).update(created_at=at(10, 18))
    # Carts: x never ordered, y ordered 30 hours later (both abandoned), z empty (no cart).
    for _name, ordered in (("x", None), ("y", at(11, 16))):
        cart = cart_create()
        cart_add(cart=cart, variant_id=p1.pk, quantity=1)
        Cart.objects.filter(pk=cart.pk).update(
            created_at=at(10, 10), ordered_at=ordered, checkout_started_at=None
        )
        CartLine.objects.filter(cart=cart).update(added_at=at(10, 10))
    empty = cart_create()
    Cart.objects.filter(pk=empty.pk).update(created_at=at(10, 11))
    # Visits: 4 sessions on the 10th (two bounces), one on the 11th.
    visit("a", at(10, 9), 1, "google")
    visit("b", at(10, 9, 30), 3, "google")
    visit("c", at(10, 11), 1, "direct")
    visit("d", at(10, 23, 59), 2, "direct")
    visit("e", at(11, 0, 1), 5, "direct")
    OrderAttribution.objects.create(order=a, visit_key="a".ljust(32, "0"), source="google")
    for product, count in ((p1.product, 3), (p2.product, 1)):
        for _ in range(count):
            ProductView.objects.create(
                visit_key="b".ljust(32, "0"), product=product, viewed_at=at(10, 9, 31)
            )
    return {"p1": p1.product, "p2": p2.product}
