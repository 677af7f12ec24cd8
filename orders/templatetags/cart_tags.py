"""The storefront header's cart count (the base template is shared, so a tag, not a
context processor that every page of every app would pay for)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

from orders.cart_session import cart_count_for_request

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_badge(context: template.Context) -> str:
    """The number of units in the cart; refetched when the page fires `cart-updated`."""
    request = context.get("request")
    count = cart_count_for_request(request) if request is not None else 0
    return render_to_string(
        "orders/storefront/cart.html#cart-count", {"count": count}, request=request
    )
