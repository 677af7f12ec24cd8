"""Paying an order: the Stripe Payment Element, or manual instructions; retry after a failure.

Reached by the order's signed status token, like the status page: a guest needs no
account, and nobody can open another shopper's payment. Card data goes from the browser
straight to Stripe (the Payment Element is Stripe's iframe); this page only hands out the
PaymentIntent's client secret.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods

from orders.models import Order, Payment
from orders.payments import PaymentError, available_providers, provider_for
from orders.payments.stripe_provider import payment_switch
from orders.selectors import order_get_for_status_token_or_404
from orders.services import OrderError

STRIPE_JS = "https://js.stripe.com"


def stripe_csp() -> dict[str, list[str]]:
    """The store's policy plus exactly what Stripe.js and the Payment Element need."""
    policy = {name: list(values) for name, values in settings.SECURE_CSP.items()}
    policy["script-src"] = [*policy.get("script-src", [CSP.SELF]), STRIPE_JS]
    policy["frame-src"] = [STRIPE_JS, "https://hooks.stripe.com"]
    policy["connect-src"] = [*policy.get("connect-src", [CSP.SELF]), "https://api.stripe.com"]
    return policy


def _awaits_payment(order: Order) -> bool:
    # An order the fraud check held at placement still waits for its money: the shopper may
    # pay (staff approve it before anything ships).
    return order.status == Order.Status.PENDING_PAYMENT or (
        order.status == Order.Status.ON_HOLD and order.held_from == Order.Status.PENDING_PAYMENT
    )


def _state(order: Order, payment: Payment | None) -> str:
    if not _awaits_payment(order) or payment is None:
        return "done" if order.paid_total > 0 else "closed"
    if payment.status == Payment.Status.FAILED:
        return "failed"
    if payment.status == Payment.Status.PROCESSING:
        return "processing"
    if payment.status == Payment.Status.SUCCEEDED:
        return "done"
    provider = provider_for(payment.provider)
    if provider.is_manual:
        return "manual"
    return "card" if provider.is_available() else "unavailable"


@csp_override(stripe_csp())
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, token: str) -> HttpResponse:
    order = order_get_for_status_token_or_404(token=token)
    if request.method == "POST":
        return _retry(request, order, token)
    payment = max(order.payments.all(), key=lambda p: (p.created_at, p.pk), default=None)
    state = _state(order, payment)
    error = ""
    if state == "card":
        try:
            provider_for("stripe").start(payment=payment)
        except PaymentError as err:
            state, error = "card_error", str(err)
    status_url = reverse("orders:order-status", args=[token])
    provider = provider_for(payment.provider) if payment else None
    # A new attempt (payment_retry) only for an order that is not held for review.
    methods = available_providers() if order.status == Order.Status.PENDING_PAYMENT else []
    if state in ("card", "manual"):
        # "Pay another way": the other methods; the current one is already on the page.
        methods = [method for method in methods if method.code != payment.provider]
    context = {
        "order": order,
        "payment": payment,
        "provider": provider,
        "state": state,
        "error": error,
        "token": token,
        "status_url": status_url,
        "return_url": request.build_absolute_uri(status_url),
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "methods": methods,
        # Preselected: the same method again after a failure, else the first offered.
        "chosen": payment.provider if state == "failed" else (methods[0].code if methods else ""),
    }
    template = "orders/storefront/pay.html"
    if request.htmx:
        template += "#payment-panel"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _retry(request: HttpRequest, order: Order, token: str) -> HttpResponse:
    """A new attempt with the method chosen: the card again (a new PaymentIntent) or a
    manual method. Bad input changes nothing and says why."""
    method = request.POST.get("method", "").strip()
    if not method:
        messages.error(request, "Choose how to pay.")
        return redirect("orders:pay", token=token)
    try:
        payment_switch(order=order, provider_code=method)
    except (OrderError, PaymentError) as err:
        messages.error(request, str(err))
    return redirect("orders:pay", token=token)
