"""The request's cart: a guest's cart is found by the token kept in their session; a
signed-in shopper's open cart is tied to their account. When a guest with a cart signs
in, the guest cart is merged into theirs on the next cart access (orders.services.cart_merge),
not at sign-in, so the customers app needs no hook into orders.

The cart is looked up once per request and kept on the request.
"""

from __future__ import annotations

from django.db.models import Q, Sum
from django.http import HttpRequest

from orders.models import Cart, CartLine
from orders.services import cart_create, cart_merge

CART_SESSION_KEY = "cart_token"
# Status tokens of the orders placed in this session (newest last): the confirmation page
# can be reloaded, and a retried "Place order" finds its order.
ORDERS_SESSION_KEY = "placed_orders"
# Tokens of carts this session has turned into orders.
PLACED_CARTS_SESSION_KEY = "placed_carts"
_UNSET = object()


def _user(request: HttpRequest):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _open_cart_of(user) -> Cart | None:
    return Cart.objects.filter(user=user, status=Cart.Status.OPEN).order_by("-updated_at").first()


def cart_for_request(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The shopper's open cart, or None when they have none (made when `create`)."""
    cached = getattr(request, "_cart", _UNSET)
    if cached is not _UNSET and (cached is not None or not create):
        return cached
    user = _user(request)
    token = request.session.get(CART_SESSION_KEY)
    guest = None
    if token:
        guest = Cart.objects.filter(token=token, status=Cart.Status.OPEN).first()
        if guest is None or (
            guest.user_id is not None and guest.user_id != getattr(user, "pk", None)
        ):
            # Ordered, merged, or someone else's: forget it.
            guest = None
            request.session.pop(CART_SESSION_KEY, None)
    if user is None:
        cart = guest
        if cart is None and create:
            cart = cart_create()
            request.session[CART_SESSION_KEY] = cart.token
    else:
        cart = _open_cart_of(user)
        if guest is not None and (cart is None or guest.pk == cart.pk):
            # Nothing to merge into: the guest cart becomes theirs.
            if guest.user_id is None:
                Cart.objects.filter(pk=guest.pk).update(user=user)
                guest.user = user
            cart = guest
        elif guest is not None and cart is not None:
            cart = cart_merge(source=guest, target=cart)
        if guest is not None:
            request.session.pop(CART_SESSION_KEY, None)
        if cart is None and create:
            cart = cart_create(user=user)
    request._cart = cart
    return cart


def cart_count_for_request(request: HttpRequest) -> int:
    """Units in the shopper's cart, for the header: one query, no cart made or merged."""
    cached = getattr(request, "_cart_count", None)
    if cached is not None:
        return cached
    user = _user(request)
    token = request.session.get(CART_SESSION_KEY) if hasattr(request, "session") else None
    if user is None and not token:
        count = 0
    else:
        lines = CartLine.objects.filter(cart__status=Cart.Status.OPEN)
        if user is not None and token:
            # A guest cart not merged yet counts too: it joins theirs on the next cart page.
            lines = lines.filter(Q(cart__user=user) | Q(cart__token=token, cart__user=None))
        elif user is not None:
            lines = lines.filter(cart__user=user)
        else:
            lines = lines.filter(cart__token=token, cart__user=None)
        count = lines.aggregate(total=Sum("quantity"))["total"] or 0
    request._cart_count = count
    return count


def cart_count_forget(request: HttpRequest) -> None:
    """After a change: the next count is read again."""
    request.__dict__.pop("_cart_count", None)


def order_remember(request: HttpRequest, *, cart_token: str, status_token: str) -> None:
    """Keep a placed order's status token (and its cart) in the session."""
    placed = [t for t in request.session.get(ORDERS_SESSION_KEY, []) if t != status_token]
    request.session[ORDERS_SESSION_KEY] = [*placed, status_token][-10:]
    carts = [t for t in request.session.get(PLACED_CARTS_SESSION_KEY, []) if t != cart_token]
    request.session[PLACED_CARTS_SESSION_KEY] = [*carts, cart_token][-10:]


def cart_for_placing(request: HttpRequest, token: str) -> Cart | None:
    """The cart a "Place order" POST names, if it is this shopper's: their open cart, or
    one this session (or their account) already ordered, so a retried POST finds its order."""
    cart = Cart.objects.filter(token=token).first()
    if cart is None:
        return None
    user = _user(request)
    if user is not None and cart.user_id == user.pk:
        return cart
    if cart.user_id is None and (
        token == request.session.get(CART_SESSION_KEY)
        or token in request.session.get(PLACED_CARTS_SESSION_KEY, [])
    ):
        return cart
    return None
