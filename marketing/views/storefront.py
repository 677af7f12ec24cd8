"""Shopper-facing links from marketing emails: cart recovery, unsubscribe, open pixel."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from marketing.abandonment import (
    abandonment_email_clicked,
    abandonment_email_opened,
    email_suppress,
    open_token_read,
    recover_token_read,
    unsubscribe_token_read,
)
from marketing.models import AbandonmentEmail
from orders.cart_session import CART_SESSION_KEY
from orders.models import Cart

# Must match the storefront's cart session module (orders/views/storefront.py and its cart
# session helper): the key under which the session keeps the visitor's cart token.

# The smallest transparent GIF (1x1).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def cart_restore_in_session(request: HttpRequest, cart: Cart) -> None:
    """Make `cart` the visitor's cart: the cart page finds it through this session key.
    A cart that belongs to an account comes back once its owner signs in."""
    request.session[CART_SESSION_KEY] = cart.token


@never_cache
def cart_recover(request: HttpRequest, token: str) -> HttpResponse:
    """The recovery link of an abandonment email: the cart, on whatever device opens it."""
    try:
        cart_token, claim_id = recover_token_read(token)
    except signing.SignatureExpired:
        messages.info(request, "This link has expired; the products are still in the shop.")
        return redirect("catalog:home")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404("This link is not valid.") from None
    claim = (
        AbandonmentEmail.objects.select_related("cart")
        .filter(pk=claim_id, cart__token=cart_token)
        .first()
    )
    if claim is None:
        raise Http404("This link is not valid.")
    abandonment_email_clicked(claim_id=claim.pk)
    cart = claim.cart
    if cart.status == Cart.Status.ORDERED:
        messages.info(request, "Good news: this cart has already been ordered. Thank you!")
        return redirect("catalog:home")
    if cart.status != Cart.Status.OPEN:
        messages.info(request, "This cart was moved into your account's cart: sign in to see it.")
        return redirect("catalog:home")
    cart_restore_in_session(request, cart)
    return redirect("orders:cart")


# Mail clients POST the RFC 8058 one-click unsubscribe without a page, so without a CSRF
# token; the signed token in the URL is what authorises the change.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        email, _claim_id = unsubscribe_token_read(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404("This link is not valid.") from None
    context = {"email": email, "done": False}
    if request.method == "POST":
        email_suppress(email=email, source="unsubscribe")
        context["done"] = True
    return render(request, "marketing/storefront/unsubscribe.html", context)


@never_cache
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    """The tracking pixel: counts the first open of an email; always the same GIF."""
    try:
        claim_id = open_token_read(token)
    except (signing.BadSignature, TypeError, ValueError):
        claim_id = None
    if claim_id is not None:
        abandonment_email_opened(claim_id=claim_id)
    return HttpResponse(PIXEL, content_type="image/gif")
