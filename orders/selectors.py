"""Reads of orders shared by views, tasks and reports, with their joins chosen."""

from __future__ import annotations

from django.core import signing
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from orders.emails import STATUS_LINK_SALT
from orders.models import Order

# A status link stays valid as long as the order exists; the order's secret is in it.
STATUS_LINK_MAX_AGE = None


def order_for_page() -> object:
    return Order.objects.select_related("customer", "shipping_method").prefetch_related(
        "lines", "payments", "refunds", "disputes"
    )


def order_get_for_user_or_404(*, user, number: str) -> Order:
    """A signed-in shopper's own order (placed by them or claimed by their account); 404
    for anyone else's, so a guessed number tells nothing."""
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(
        order_for_page().filter(Q(customer__user=user) | Q(user=user)), number=number
    )


def order_get_for_status_token_or_404(*, token: str) -> Order:
    """The order of a signed status link (the guest's email); 404 for a forged or tampered
    token, or one whose order secret does not match."""
    try:
        data = signing.loads(token, salt=STATUS_LINK_SALT, max_age=STATUS_LINK_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    if not isinstance(data, dict):
        raise Http404
    return get_object_or_404(order_for_page(), number=str(data.get("n")), secret=data.get("s"))
