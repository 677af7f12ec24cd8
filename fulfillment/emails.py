"""Shopper emails about parcels and returns, each claimed once before it is sent."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from config.mail import send_templated_email
from fulfillment.models import FulfillmentEmail, ReturnRequest, Shipment
from orders.emails import order_status_token, order_status_url
from orders.models import Order, OrderEvent

# (object, kind) -> (template, timeline wording)
EMAILS = {
    ("shipment", "shipped"): ("fulfillment_shipped", "Shipped"),
    ("shipment", "delivered"): ("fulfillment_delivered", "Delivered"),
    ("shipment", "delayed"): ("fulfillment_delayed", "Delivery delay"),
    ("return", "requested"): ("return_requested", "Return instructions"),
    ("return", "approved"): ("return_approved", "Return approved"),
    ("return", "rejected"): ("return_rejected", "Return rejected"),
}


def status_token(order: Order) -> str:
    """The signed token of the guest's order-status link (orders signs it)."""
    return order_status_token(order)


def return_status_url(ret: ReturnRequest) -> str:
    """The shopper's link to a return: signed like the order's, so it needs no login."""
    return settings.SITE_URL + reverse(
        "fulfillment:status-return", args=[status_token(ret.order), ret.pk]
    )


def fulfillment_email_send(*, key: str) -> bool:
    """Send "shipment:<id>:<kind>" or "return:<id>:<kind>" once: a claim row first; a send
    that fails leaves the claim unsent so a retry sends it. Returns whether it went now."""
    what, pk, kind = key.split(":")
    template, label = EMAILS[(what, kind)]
    try:
        with transaction.atomic():
            claim = FulfillmentEmail.objects.create(key=key)
    except IntegrityError:
        claim = FulfillmentEmail.objects.get(key=key)
        if claim.sent_at is not None:
            return False
    if what == "shipment":
        shipment = Shipment.objects.select_related("order", "service__carrier").get(pk=int(pk))
        if kind == "delayed" and shipment.status == Shipment.Status.DELIVERED:
            FulfillmentEmail.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
            return False  # delivered meanwhile: no apology needed
        order = shipment.order
        context = {"shipment": shipment, "lines": list(shipment.lines.all())}
    else:
        ret = ReturnRequest.objects.select_related("order").get(pk=int(pk))
        order = ret.order
        context = {
            "return": ret,
            "lines": list(ret.lines.select_related("order_line")),
            "return_url": return_status_url(ret),
            "window_days": settings.RETURN_WINDOW_DAYS,
        }
    context |= {"order": order, "status_url": order_status_url(order)}
    send_templated_email(template=template, to=[order.email], context=context)
    FulfillmentEmail.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.EMAIL, message=f"{label} email sent to {order.email}."
    )
    return True
