"""The shopper's order pages: by the signed status link (guests) and in the account."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orders.cart_session import (
    ORDERS_SESSION_KEY,
)
from orders.emails import order_status_token
from orders.forms import (
    country_name,
)
from orders.models import (
    Order,
    OrderEvent,
    Payment,
    Refund,
)
from orders.payments import PaymentError, provider_for
from orders.selectors import order_get_for_status_token_or_404, order_get_for_user_or_404

ORDER_PAGE = "orders/storefront/order.html"


# --- Orders ----------------------------------------------------------------------------------


def _timeline(order: Order) -> list[dict]:
    """What the shopper is told happened, in order: no staff notes, no risk, no internals."""
    entries = [{"at": order.created_at, "title": "Order placed", "kind": "placed"}]
    for payment in order.payments.all():
        if payment.status == Payment.Status.SUCCEEDED and payment.succeeded_at:
            entries.append(
                {"at": payment.succeeded_at, "title": "Payment received", "kind": "paid"}
            )
        elif payment.status == Payment.Status.FAILED:
            detail = payment.failure_message or "The payment did not go through."
            entries.append(
                {
                    "at": payment.updated_at,
                    "title": "Payment failed",
                    "text": detail,
                    "kind": "failed",
                }
            )
    wording = {
        Order.Status.PARTIALLY_FULFILLED: "Part of your order has shipped",
        Order.Status.FULFILLED: "Shipped",
        Order.Status.CANCELLED: "Cancelled",
    }
    for event in order.events.filter(kind=OrderEvent.Kind.STATUS, to_status__in=list(wording)):
        entries.append(
            {"at": event.created_at, "title": wording[event.to_status], "kind": "status"}
        )
    for refund in order.refunds.all():
        if refund.status == Refund.Status.SUCCEEDED:
            entries.append(
                {
                    "at": refund.created_at,
                    "title": "Refund issued",
                    "amount": refund.amount,
                    "kind": "refund",
                }
            )
    return sorted(entries, key=lambda entry: entry["at"])


def _order_context(request: HttpRequest, order: Order, token: str) -> dict:
    try:
        provider = provider_for(order.payment_method)
    except PaymentError:  # a method since removed from the store
        provider = None
    due = order.status == Order.Status.PENDING_PAYMENT and order.balance_due > 0
    payments = list(order.payments.all())
    failed = (
        next((p for p in reversed(payments) if p.status == Payment.Status.FAILED), None)
        if order.payment_status == Order.PaymentStatus.FAILED
        else None
    )
    return {
        "order": order,
        "token": token,
        "lines": list(order.lines.all()),
        "timeline": _timeline(order),
        "provider": provider,
        "payment_due": due,
        "pay_url": reverse("orders:pay", args=[token])
        if due and (failed or not getattr(provider, "is_manual", True))
        else None,
        "instructions": getattr(provider, "instructions", "") if due else "",
        "failed_payment": failed,
        "just_placed": token in request.session.get(ORDERS_SESSION_KEY, []),
        "shipping_country": country_name(order.shipping_address.get("country", "")),
        "billing_country": country_name(order.billing_address.get("country", "")),
        "bank_details": settings.BANK_TRANSFER_DETAILS,
    }


@never_cache
@require_GET
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    """The order page of the signed link (email, checkout confirmation): no sign-in needed."""
    order = order_get_for_status_token_or_404(token=token)
    return render(request, ORDER_PAGE, _order_context(request, order, token))


@never_cache
@login_required(login_url="customers:account-login")
@require_GET
def account_orders(request: HttpRequest) -> HttpResponse:
    orders = (
        Order.objects.filter(Q(customer__user=request.user) | Q(user=request.user))
        .annotate(items=Sum("lines__quantity"))
        .order_by("-created_at", "-id")
    )
    page = Paginator(orders, 10).get_page(request.GET.get("page"))
    context = {"page": page}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "orders/storefront/account_orders.html#order-list", context)
    return render(request, "orders/storefront/account_orders.html", context)


@never_cache
@login_required(login_url="customers:account-login")
@require_GET
def account_order(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_user_or_404(user=request.user, number=number)
    context = _order_context(request, order, order_status_token(order))
    context["in_account"] = True
    return render(request, ORDER_PAGE, context)
