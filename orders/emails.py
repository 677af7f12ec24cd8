"""Emails about an order, each claimed once per order and key before it is sent."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from config.mail import send_templated_email
from orders.models import Order, OrderEmail, OrderEvent, Refund

# key prefix -> (template, timeline wording)
EMAILS = {
    "confirmation": ("order_confirmation", "Order confirmation"),
    "payment_received": ("order_payment_received", "Payment received"),
    "refund": ("order_refund", "Refund issued"),
    "cancelled": ("order_cancelled", "Order cancelled"),
}

STATUS_LINK_SALT = "orders.status-link"


def order_status_url(order: Order) -> str:
    """The guest's link to the order page: signed, so a guessed number opens nothing."""
    token = signing.dumps({"n": order.number, "s": order.secret}, salt=STATUS_LINK_SALT)
    return settings.SITE_URL + reverse("orders:order-status", args=[token])


def order_status_token(order: Order) -> str:
    """The signed token of the order's status link (the same as in order_status_url), for
    the pages that link to it: the checkout's redirect, the pay page."""
    return signing.dumps({"n": order.number, "s": order.secret}, salt=STATUS_LINK_SALT)


def order_email_send(*, order_id: int, key: str) -> bool:
    """Send email `key` ("confirmation", "refund:17", ...) for an order, at most once once
    it went out: a row claims it first; a send that fails leaves the claim unsent, so a
    retry sends it. Returns whether an email went out now."""
    template, label = EMAILS[key.split(":", 1)[0]]
    try:
        with transaction.atomic():
            claim = OrderEmail.objects.create(order_id=order_id, key=key)
    except IntegrityError:
        claim = OrderEmail.objects.get(order_id=order_id, key=key)
        if claim.sent_at is not None:
            return False
    order = Order.objects.select_related("customer").get(pk=order_id)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "status_url": order_status_url(order),
        "bank_details": settings.BANK_TRANSFER_DETAILS,
    }
    if key.startswith("refund:"):
        context["refund"] = Refund.objects.get(pk=int(key.split(":", 1)[1]), order=order)
    send_templated_email(template=template, to=[order.email], context=context)
    OrderEmail.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.EMAIL, message=f"{label} email sent to {order.email}."
    )
    return True
