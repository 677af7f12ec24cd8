"""Fraud rules: each fires on its own data, and a high score holds the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.models import Order, Payment
from orders.risk import risk_assess, risk_reasons
from orders.services import order_place, order_release, payment_status_set
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ADDRESS, ready_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant():
    variant = VariantFactory(price=Decimal("20.00"))
    stock(variant, WarehouseFactory(), 500)
    return variant


def place(variant, quantity=1, **kwargs):
    ip = kwargs.pop("ip", None)
    return order_place(cart=ready_cart([(variant, quantity)], **kwargs), ip_address=ip)


def rules(order):
    return {reason["rule"] for reason in risk_reasons(order=order)}


def test_an_ordinary_order_scores_zero(variant):
    order = place(variant)
    assert order.risk_score == 0
    assert order.status == Order.Status.PENDING_PAYMENT


def test_several_orders_from_one_email_or_address_within_an_hour(variant):
    for _ in range(2):
        place(variant, email="rush@example.net", ip="198.51.100.7")
    third = place(variant, email="rush@example.net", ip="198.51.100.7")
    assert {"velocity_email", "velocity_ip"} <= rules(third)


def test_failed_payments_from_the_same_email(variant):
    for _ in range(2):
        failed = place(variant, email="card@example.net")
        payment_status_set(payment=failed.payments.get(), status=Payment.Status.FAILED)
    assert "failed_payments" in rules(place(variant, email="card@example.net"))


def test_billing_country_differs_from_shipping(variant):
    cart = ready_cart([(variant, 1)])
    cart.billing_same_as_shipping = False
    cart.billing_address = {**ADDRESS, "country": "NG"}
    cart.save()
    assert "country_mismatch" in rules(order_place(cart=cart))


def test_far_above_the_customers_history(variant):
    place(variant, email="steady@example.net")
    assert "high_value" in rules(place(variant, quantity=10, email="steady@example.net"))
    assert "large_first_order" in rules(place(variant, quantity=60, email="new@example.net"))


def test_disposable_email_domain(variant):
    assert "disposable_email" in rules(place(variant, email="x@mailinator.com"))


def test_a_score_at_the_threshold_holds_the_order_with_its_reasons(variant, settings):
    settings.RISK_HOLD_THRESHOLD = 50
    order = place(variant, quantity=60, email="x@mailinator.com")  # 20 + 30
    order.refresh_from_db()
    assert order.risk_score == 50
    assert order.status == Order.Status.ON_HOLD
    assert "Fraud check" in order.hold_reason
    assert len(order.risk_reasons) == 2


def test_stripe_risk_level_counts_and_an_approved_order_is_not_held_again(variant, settings):
    settings.RISK_HOLD_THRESHOLD = 60
    order = place(variant)
    payment = order.payments.get()
    payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED, risk_level="highest")
    order.refresh_from_db()
    assert order.status == Order.Status.ON_HOLD
    assert "stripe_risk" in rules(order)
    order_release(order=order, actor=StaffFactory())
    risk_assess(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
