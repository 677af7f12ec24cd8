"""Payment providers: one interface, a manual provider (bank transfer, cash on delivery)
that needs no keys, and Stripe when its keys are configured.

A provider never decides an order's state: it talks to the outside world and reports;
orders.services.payment_status_set moves the payment (forward only) and the order.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings

from orders.models import Payment, Refund


class PaymentError(Exception):
    """The provider refused or failed; the message can be shown to staff or the shopper."""


class Provider(Protocol):
    code: str
    label: str
    # Manual: the order waits for staff to mark it paid.
    is_manual: bool

    def is_available(self) -> bool: ...

    def start(self, *, payment: Payment) -> None:
        """Prepare collection (Stripe: create the PaymentIntent); saves the payment."""

    def refund(self, *, refund: Refund) -> str:
        """Send the money back (or record that staff did). Saves the provider's reference
        on the refund, if any, and returns its status: succeeded, pending or failed (the
        caller applies it). Raises PaymentError when the provider refuses."""


class ManualProvider:
    """Bank transfer or cash on delivery: staff mark the order paid when the money is in.
    A refund is recorded as done by staff outside the store."""

    is_manual = True

    def __init__(self, code: str, label: str, instructions: str = "") -> None:
        self.code = code
        self.label = label
        self.instructions = instructions

    def is_available(self) -> bool:
        return self.code in settings.MANUAL_PAYMENT_METHODS

    def start(self, *, payment: Payment) -> None:
        return None

    def refund(self, *, refund: Refund) -> str:
        return Refund.Status.SUCCEEDED


def _manual() -> list[ManualProvider]:
    return [
        ManualProvider(
            "bank_transfer",
            "Bank transfer",
            "Transfer the total to our account with your order number as the reference: "
            + settings.BANK_TRANSFER_DETAILS,
        ),
        ManualProvider(
            "cash_on_delivery", "Cash on delivery", "Pay the courier when your parcel arrives."
        ),
    ]


def providers() -> dict[str, Provider]:
    """Every provider the store knows, available or not, by code."""
    found: dict[str, Provider] = {provider.code: provider for provider in _manual()}
    try:
        from orders.payments.stripe_provider import StripeProvider
    except ImportError:  # pragma: no cover - the Stripe provider ships with the app
        pass
    else:
        found["stripe"] = StripeProvider()
    return found


def provider_for(code: str) -> Provider:
    try:
        return providers()[code]
    except KeyError:
        raise PaymentError(f"Unknown payment method {code!r}.") from None


def available_providers() -> list[Provider]:
    """What checkout offers now: Stripe first when configured, then the manual methods."""
    found = [provider for provider in providers().values() if provider.is_available()]
    return sorted(found, key=lambda provider: provider.is_manual)
