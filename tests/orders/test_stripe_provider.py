"""StripeProvider against the local fake of Stripe's HTTP API (no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.models import Order, Payment, Refund
from orders.payments import PaymentError, available_providers, provider_for
from orders.payments.stripe_provider import from_minor_units, to_minor_units
from orders.refunds import refund_create
from orders.services import order_place, payment_status_set
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart
from tests.fakes.stripe_orders import stripe_order_place
from tests.fakes.stripe_server import stripe_fake_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_order(stripe_fake):
    variant = VariantFactory(price=Decimal("19.99"))
    stock(variant, WarehouseFactory(), 10)
    return order_place(cart=ready_cart([(variant, 2)], payment="stripe"))


def _payment(order: Order) -> Payment:
    return order.payments.get()


@pytest.mark.parametrize(
    ("amount", "currency", "minor", "back"),
    [
        ("19.99", "EUR", 1999, "19.99"),
        ("0.10", "usd", 10, "0.10"),
        ("1500", "JPY", 1500, "1500"),
        ("1500.4", "JPY", 1500, "1500"),
        ("12.345", "EUR", 1235, "12.35"),
    ],
)
def test_amounts_go_to_stripe_in_the_minor_unit(amount, currency, minor, back):
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(back)


def test_stripe_is_offered_only_with_both_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = ""
    assert "stripe" not in [provider.code for provider in available_providers()]
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    codes = [provider.code for provider in available_providers()]
    assert codes[0] == "stripe"
    assert provider_for("stripe").label == "Card"
    assert provider_for("stripe").is_manual is False


def test_start_creates_a_payment_intent_with_the_order_details(stripe_fake, stripe_order):
    payment = _payment(stripe_order)
    provider_for("stripe").start(payment=payment)

    payment.refresh_from_db()
    assert payment.reference.startswith("pi_")
    assert payment.client_secret.startswith(payment.reference + "_secret_")
    (call,) = stripe_fake.creations("/v1/payment_intents")
    assert call.idempotency_key == payment.idempotency_key
    assert payment.idempotency_key == f"order-{stripe_order.number}-payment-1"
    assert call.params["amount"] == str(to_minor_units(stripe_order.total, "EUR"))
    assert call.params["currency"] == "eur"
    assert call.params["automatic_payment_methods"] == {"enabled": "true"}
    assert call.params["metadata"] == {
        "order_number": stripe_order.number,
        "payment_id": str(payment.pk),
    }


def test_start_twice_reuses_the_payment_intent(stripe_fake, stripe_order):
    payment = _payment(stripe_order)
    provider_for("stripe").start(payment=payment)
    provider_for("stripe").start(payment=payment)
    # A fresh copy from the database (a second request) finds it too.
    provider_for("stripe").start(payment=Payment.objects.get(pk=payment.pk))
    assert len(stripe_fake.creations("/v1/payment_intents")) == 1


def test_a_timeout_then_the_librarys_retry_creates_one_payment_intent(stripe_fake, stripe_order):
    stripe_fake.slow_calls = 1  # the first answer comes after the client gave up
    payment = _payment(stripe_order)
    provider_for("stripe").start(payment=payment)

    calls = stripe_fake.creations("/v1/payment_intents")
    assert len(calls) == 2  # the call timed out and was sent again...
    assert {call.idempotency_key for call in calls} == {payment.idempotency_key}
    assert len(stripe_fake.payment_intents) == 1  # ...and Stripe made one intent
    payment.refresh_from_db()
    assert payment.reference == next(iter(stripe_fake.payment_intents))


def test_a_timeout_then_a_retry_by_hand_creates_one_payment_intent(
    settings, stripe_fake, stripe_order
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_fake.slow_calls = 1
    payment = _payment(stripe_order)
    with pytest.raises(PaymentError, match="could not be reached"):
        provider_for("stripe").start(payment=payment)
    payment.refresh_from_db()
    assert payment.reference == ""
    assert len(stripe_fake.payment_intents) == 1  # Stripe made it; we never heard back

    provider_for("stripe").start(payment=payment)  # the shopper reloads the page
    assert len(stripe_fake.payment_intents) == 1
    payment.refresh_from_db()
    assert payment.reference == next(iter(stripe_fake.payment_intents))


def test_a_stripe_error_becomes_a_readable_payment_error(stripe_fake, stripe_order):
    stripe_fake.next_error = (402, "card_error", "card_declined", "Your card was declined.")
    payment = _payment(stripe_order)
    with pytest.raises(PaymentError, match=r"^Your card was declined\.$"):
        provider_for("stripe").start(payment=payment)
    payment.refresh_from_db()
    assert payment.reference == ""


def test_wrong_keys_are_reported_as_such(settings, stripe_fake, stripe_order):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(PaymentError, match="keys were refused"):
        provider_for("stripe").start(payment=_payment(stripe_order))
    assert stripe_fake.payment_intents == {}


@pytest.fixture
def paid_stripe_order(stripe_fake, stripe_order):
    payment = _payment(stripe_order)
    provider_for("stripe").start(payment=payment)
    stripe_fake.succeed(Payment.objects.get(pk=payment.pk).reference)
    payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED)
    stripe_order.refresh_from_db()
    return stripe_order


def test_refund_goes_through_stripe_once_with_the_refunds_key(stripe_fake, paid_stripe_order):
    refund = refund_create(order=paid_stripe_order, amount=Decimal("10.00"), reason="Scratched")

    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.reference.startswith("re_")
    (call,) = stripe_fake.creations("/v1/refunds")
    assert call.idempotency_key == refund.idempotency_key == f"refund-{refund.pk}"
    assert call.params["amount"] == "1000"
    assert call.params["payment_intent"] == _payment(paid_stripe_order).reference
    paid_stripe_order.refresh_from_db()
    assert paid_stripe_order.refunded_total == Decimal("10.00")


def test_a_timed_out_refund_is_retried_into_one_stripe_refund(stripe_fake, paid_stripe_order):
    stripe_fake.slow_calls = 1
    refund = refund_create(order=paid_stripe_order, amount=Decimal("5.00"))
    assert len(stripe_fake.creations("/v1/refunds")) == 2
    assert len(stripe_fake.refunds) == 1
    assert refund.reference == next(iter(stripe_fake.refunds))


def test_a_pending_refund_waits_for_the_webhook(stripe_fake, paid_stripe_order):
    stripe_fake.refund_status = "pending"
    refund = refund_create(order=paid_stripe_order, amount=Decimal("5.00"))
    assert refund.status == Refund.Status.PENDING
    paid_stripe_order.refresh_from_db()
    assert paid_stripe_order.refunded_total == 0


def test_a_refund_stripe_refuses_is_failed_and_changes_no_figures(stripe_fake, paid_stripe_order):
    stripe_fake.next_error = (400, "invalid_request_error", "charge_disputed", "Charge disputed.")
    with pytest.raises(PaymentError, match="Charge disputed"):
        refund_create(order=paid_stripe_order, amount=Decimal("5.00"))
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED
    assert refund.failure_message == "Charge disputed."
    paid_stripe_order.refresh_from_db()
    assert paid_stripe_order.refunded_total == 0


def test_cancel_stops_an_open_intent_and_is_refused_for_a_paid_one(stripe_fake, stripe_order):
    payment = _payment(stripe_order)
    provider = provider_for("stripe")
    assert provider.cancel(payment=payment) is False  # no intent yet: nothing to cancel
    provider.start(payment=payment)
    assert provider.cancel(payment=payment) is True
    assert stripe_fake.payment_intents[payment.reference]["status"] == "canceled"

    other = stripe_order_place(email="grace@example.net").payments.get()
    stripe_fake.succeed(other.reference)
    assert provider.cancel(payment=other) is False
    assert stripe_fake.payment_intents[other.reference]["status"] == "succeeded"
