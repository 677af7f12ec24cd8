"""Fulfillment on pages of the orders app, which sits below this one and cannot import it:
the order pages load these tags to show parcels (with tracking links) and returns.

Storefront:  {% load fulfillment_tags %}{% order_parcels order token=token %}
             (token: the guest's signed status token; without it, the signed-in owner's links)
Dashboard:   {% load fulfillment_tags %}{% order_fulfillment_staff order %}
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from fulfillment.models import ReturnRequest, Shipment
from fulfillment.returns import returnable_units

register = template.Library()

HIDDEN = (Shipment.Status.READY, Shipment.Status.CANCELLED)


def _parcels(order) -> list[Shipment]:
    return list(
        Shipment.objects.filter(order=order)
        .exclude(status__in=HIDDEN)
        .select_related("service__carrier")
        .prefetch_related("lines")
        .order_by("shipped_at", "pk")
    )


@register.inclusion_tag("fulfillment/storefront/_order_parcels.html")
def order_parcels(order, token: str = "") -> dict:
    """The shopper's parcels and returns, and the link to ask for a return when anything
    can still be returned."""
    returns = list(ReturnRequest.objects.filter(order=order).order_by("created_at", "pk"))
    if token:
        request_url = reverse("fulfillment:status-return-create", args=[token])
        links = [reverse("fulfillment:status-return", args=[token, r.pk]) for r in returns]
    else:
        request_url = reverse("fulfillment:account-return-create", args=[order.number])
        links = [reverse("fulfillment:account-return", args=[r.pk]) for r in returns]
    can_return = any(row["units"] for row in returnable_units(order=order).values())
    return {
        "parcels": _parcels(order),
        "returns": list(zip(returns, links, strict=True)),
        "request_url": request_url if can_return else "",
    }


@register.inclusion_tag("fulfillment/staff/_order_fulfillment.html", takes_context=True)
def order_fulfillment_staff(context: template.Context, order) -> dict:
    """For the staff order page: every parcel (being packed included) and return."""
    parcels = list(
        Shipment.objects.filter(order=order)
        .select_related("service__carrier", "warehouse")
        .order_by("created_at", "pk")
    )
    returns = list(ReturnRequest.objects.filter(order=order).order_by("created_at", "pk"))
    return {"order": order, "parcels": parcels, "returns": returns, "perms": context.get("perms")}
