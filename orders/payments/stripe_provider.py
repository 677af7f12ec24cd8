"""Stripe: PaymentIntents with the Payment Element, and refunds.

Every call that creates something carries a deterministic idempotency key (the payment's
or the refund's own), so a timeout followed by a retry - by the library itself or by a
person pressing the button again - creates one PaymentIntent or one refund, never two.
Card data never reaches us: the shopper's browser sends it to Stripe, we only ever see
the PaymentIntent's id and client secret.
"""

from __future__ import annotations

from decimal import Decimal

import stripe
from django.conf import settings
from django.utils import timezone

from config.money import ZERO_DECIMAL_CURRENCIES, money_round
from orders.models import Order, Payment, Refund
from orders.payments import PaymentError
from orders.services import payment_retry

# Stripe's refund states -> ours; "requires_action" and "pending" wait for the webhook.
REFUND_STATUS = {
    "succeeded": Refund.Status.SUCCEEDED,
    "pending": Refund.Status.PENDING,
    "requires_action": Refund.Status.PENDING,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}


# Stripe's zero-decimal currencies: amounts go as whole units. ISK has no minor unit either,
# but Stripe takes it in two-decimal form (500 for 5 ISK), so it is not in this set.
STRIPE_ZERO_DECIMAL = ZERO_DECIMAL_CURRENCIES - {"ISK"}


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Stripe counts in the currency's smallest unit: cents for EUR, whole yen for JPY."""
    rounded = money_round(amount, currency)
    if currency.upper() in STRIPE_ZERO_DECIMAL:
        return int(rounded)
    return int(rounded * 100)


def from_minor_units(amount: int, currency: str) -> Decimal:
    if currency.upper() in STRIPE_ZERO_DECIMAL:
        return money_round(Decimal(amount), currency)
    return money_round(Decimal(amount) / 100, currency)


def stripe_client() -> stripe.StripeClient:
    """A client for the configured account and API base (the local fake in tests)."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _readable(err: stripe.StripeError) -> str:
    if isinstance(err, stripe.APIConnectionError):
        return "Stripe could not be reached; nothing was charged twice. Try again in a moment."
    if isinstance(err, stripe.AuthenticationError):
        return "The store's Stripe keys were refused; staff need to check them."
    return err.user_message or "Stripe refused the request."


class StripeProvider:
    code = "stripe"
    label = "Card"
    is_manual = False
    instructions = ""

    def is_available(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)

    def start(self, *, payment: Payment) -> None:
        """Create the payment's PaymentIntent (once: the idempotency key is the payment's)
        and keep its id and client secret. A payment that already has one is left alone."""
        if payment.reference and payment.client_secret:
            return
        order = payment.order
        try:
            intent = stripe_client().v1.payment_intents.create(
                params={
                    "amount": to_minor_units(payment.amount, payment.currency),
                    "currency": payment.currency.lower(),
                    "automatic_payment_methods": {"enabled": True},
                    "description": f"Order {order.number}",
                    "receipt_email": order.email,
                    "metadata": {"order_number": order.number, "payment_id": str(payment.pk)},
                },
                options={"idempotency_key": payment.idempotency_key or f"payment-{payment.pk}"},
            )
        except stripe.StripeError as err:
            raise PaymentError(_readable(err)) from err
        payment.reference = intent.id
        payment.client_secret = intent.client_secret or ""
        payment.updated_at = timezone.now()
        payment.save(update_fields=["reference", "client_secret", "updated_at"])

    def cancel(self, *, payment: Payment) -> bool:
        """Cancel the payment's PaymentIntent at Stripe after the shopper switched method,
        so the old card form can no longer charge. Returns whether Stripe cancelled it; it
        refuses when the intent is already processing or paid, and then its webhook
        brings the money in (payment_status_set records a cancelled attempt's success)."""
        if not payment.reference:
            return False
        try:
            stripe_client().v1.payment_intents.cancel(
                payment.reference,
                params={"cancellation_reason": "abandoned"},
                options={"idempotency_key": f"{payment.idempotency_key}-cancel"},
            )
        except stripe.StripeError:
            return False
        return True

    def refund(self, *, refund: Refund) -> str:
        """Refund through Stripe (once: the idempotency key is the refund's); returns the
        mapped status and keeps Stripe's "re_..." id on the refund."""
        payment = refund.payment
        if not payment.reference:
            raise PaymentError("This card payment has no Stripe PaymentIntent to refund.")
        try:
            stripe_refund = stripe_client().v1.refunds.create(
                params={
                    "payment_intent": payment.reference,
                    "amount": to_minor_units(refund.amount, refund.currency),
                    "metadata": {"order_number": refund.order.number, "refund_id": str(refund.pk)},
                },
                options={"idempotency_key": refund.idempotency_key or f"refund-{refund.pk}"},
            )
        except stripe.StripeError as err:
            raise PaymentError(_readable(err)) from err
        refund.reference = stripe_refund.id
        refund.save(update_fields=["reference"])
        status = REFUND_STATUS.get(stripe_refund.status or "", Refund.Status.PENDING)
        if status == Refund.Status.FAILED:
            refund.failure_message = (stripe_refund.get("failure_reason") or "")[:300]
        return status


def payment_switch(*, order: Order, provider_code: str) -> Payment:
    """The shopper's new attempt after a failure or a change of mind (payment_retry), then
    the replaced card attempts' PaymentIntents cancelled at Stripe - after the retry
    committed, so no network call happens under the order's lock - so that a card form
    still open in another tab can no longer charge. Raises OrderError or PaymentError."""
    replaced = list(
        order.payments.filter(
            provider="stripe", status__in=[Payment.Status.PENDING, Payment.Status.FAILED]
        ).exclude(reference="")
    )
    attempt = payment_retry(order=order, provider_code=provider_code)
    for old in replaced:
        old.refresh_from_db()
        if old.pk != attempt.pk and old.status != Payment.Status.SUCCEEDED:
            StripeProvider().cancel(payment=old)
    return attempt
