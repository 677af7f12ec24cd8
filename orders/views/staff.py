"""Orders dashboard: the list, one order with its timeline, and every action on it.

Each action is a POST form: with htmx it answers the region it changed and fires
"order-updated" so the other regions of the page refresh themselves; without JavaScript
it redirects back to the order (errors as messages), except the refund form, whose errors
are shown on the page it was sent from.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from config.staff import staff_required
from customers.models import Customer
from orders.forms_staff import HoldForm, NoteForm, OrderFilterForm, ReasonForm, RefundForm
from orders.models import Order, Refund
from orders.payments import PaymentError, providers
from orders.refunds import refund_create, refundable
from orders.selectors_staff import (
    COUNT_LIMIT,
    order_get_for_staff_or_404,
    order_list_for_staff,
    order_page,
)
from orders.services import (
    OrderError,
    order_cancel,
    order_hold,
    order_mark_paid,
    order_note_add,
    order_release,
)

DETAIL = "orders/staff/order_detail.html"
REGIONS = ("order-header", "order-main", "order-body", "order-timeline", "refund-form")


@staff_required("orders.view_order")
def index(request: HttpRequest) -> HttpResponse:
    filters = OrderFilterForm(request.GET)
    filters.is_valid()  # invalid fields are left out of cleaned_data and shown
    page = order_page(
        order_list_for_staff(filters=filters.cleaned_data),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    embed = request.GET.get("embed") == "1"
    # Links work without JavaScript too: their href opens the full list, hx-get the rows.
    full_query = query.copy()
    full_query.pop("embed", None)
    customer_id = filters.cleaned_data.get("customer")
    context = {
        "filters": filters,
        "page": page,
        "customer": (
            Customer.objects.filter(pk=customer_id).only("email", "full_name").first()
            if customer_id and not embed
            else None
        ),
        "count_limit": COUNT_LIMIT,
        "query": query.urlencode(),
        "full_query": full_query.urlencode(),
        "risk_threshold": settings.RISK_HOLD_THRESHOLD,
        "embed": embed,
        "is_filtered": any(
            value for key, value in request.GET.items() if key not in ("embed", "after", "before")
        ),
    }
    if embed or (request.htmx and not request.htmx.history_restore_request):
        response = render(request, "orders/staff/order_list.html#order-rows", context)
    else:
        response = render(request, "orders/staff/order_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _detail_context(request: HttpRequest, order: Order, **extra: object) -> dict:
    can_refund = request.user.has_perm("orders.add_refund")
    left = refundable(order)
    labels = {code: provider.label for code, provider in providers().items()}
    payments = list(order.payments.all())
    for payment in payments:
        payment.provider_label = labels.get(payment.provider, payment.provider)
    lines = list(order.lines.all())
    return {
        "order": order,
        "lines": lines,
        "any_refunded": any(line.quantity_refunded for line in lines),
        "payments": payments,
        "payment_method_label": labels.get(order.payment_method, order.payment_method),
        "refunds": list(order.refunds.all()),
        "disputes": list(order.disputes.all()),
        "events": list(order.events.all()),
        "refundable": left,
        "can_refund": can_refund and left > 0,
        "refund_form": extra.pop("refund_form", None) or RefundForm(order=order, prefix="refund"),
        "note_form": extra.pop("note_form", None) or NoteForm(),
        "offer_refund": request.GET.get("refund") == "1"
        or (order.status == Order.Status.CANCELLED and left > 0),
        "waiting_manual_payment": _waits_for_manual_payment(order),
        "risk_threshold": settings.RISK_HOLD_THRESHOLD,
        **extra,
    }


def _waits_for_manual_payment(order: Order) -> bool:
    manual = {code for code, provider in providers().items() if provider.is_manual}
    return any(
        payment.status in ("pending", "processing") and payment.provider in manual
        for payment in order.payments.all()
    )


@staff_required("orders.view_order")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    context = _detail_context(request, order)
    region = request.GET.get("region")
    if request.htmx and region in REGIONS:
        response = render(request, f"{DETAIL}#{region}", context)
    else:
        response = render(request, DETAIL, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _after_action(request: HttpRequest, number: str) -> HttpResponse:
    """For htmx, the header (status, messages, actions) and "order-updated", on which the
    rest of the page (#order-main) refreshes itself in one request; without JavaScript, a
    redirect back to the order."""
    order = order_get_for_staff_or_404(number)
    if not request.htmx:
        url = reverse("orders:staff-detail", args=[number])
        if order.status == Order.Status.CANCELLED and refundable(order) > 0:
            url += "?refund=1#refund"
        return redirect(url)
    response = render(request, f"{DETAIL}#order-header", _detail_context(request, order))
    return trigger_client_event(response, "order-updated")


def _run(request: HttpRequest, action, success: str) -> None:
    try:
        action()
    except OrderError as err:  # IllegalTransition is one
        messages.error(request, str(err))
    else:
        messages.success(request, success)


@staff_required("orders.change_order")
@require_POST
def mark_paid(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    _run(request, lambda: order_mark_paid(order=order, actor=request.user), "Marked as paid.")
    return _after_action(request, number)


@staff_required("orders.change_order")
@require_POST
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _run(
        request,
        lambda: order_cancel(order=order, actor=request.user, reason=reason),
        "Order cancelled; its stock is released.",
    )
    order.refresh_from_db()
    if order.status == Order.Status.CANCELLED and refundable(order) > 0:
        messages.warning(request, "This order was paid: refund the shopper below.")
    return _after_action(request, number)


@staff_required("orders.change_order")
@require_POST
def hold(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    form = HoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the order is held.")
    else:
        reason = form.cleaned_data["reason"]
        _run(
            request,
            lambda: order_hold(order=order, reason=reason, actor=request.user),
            "Order put on hold.",
        )
    return _after_action(request, number)


@staff_required("orders.change_order")
@require_POST
def release(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    _run(
        request,
        lambda: order_release(order=order, actor=request.user),
        "Order approved and released.",
    )
    return _after_action(request, number)


@staff_required("orders.change_order")
@require_POST
def note(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    form = NoteForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: order_note_add(
                order=order, message=form.cleaned_data["message"], actor=request.user
            ),
            "Note added.",
        )
        form = NoteForm()
    elif not request.htmx:
        messages.error(request, "Write a note first.")
    if not request.htmx:
        return redirect("orders:staff-detail", number)
    context = _detail_context(request, order_get_for_staff_or_404(number), note_form=form)
    return render(request, f"{DETAIL}#order-timeline", context)


@staff_required("orders.add_refund")
@require_POST
def refund(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_staff_or_404(number)
    form = RefundForm(request.POST, order=order, prefix="refund")
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = refund_create(
                order=order,
                lines=data["lines"] or None,
                amount=None if data["lines"] else data["amount"],
                shipping=data.get("shipping") or 0,
                restock=data.get("restock", False),
                reason=data["reason"],
                actor=request.user,
            )
        except (OrderError, PaymentError) as err:
            form.add_error(None, str(err))
        else:
            if made.status == Refund.Status.PENDING:
                messages.success(
                    request,
                    f"Refund of {made.amount} {made.currency} sent; waiting for the provider.",
                )
            else:
                messages.success(request, f"Refunded {made.amount} {made.currency}.")
            return _after_action(request, number)
    order = order_get_for_staff_or_404(number)
    context = _detail_context(request, order, refund_form=form)
    context["offer_refund"] = True
    context["can_refund"] = True  # show why, even when nothing is left to refund
    if request.htmx:
        # The form posts to the header; its errors belong in the form itself.
        response = render(request, f"{DETAIL}#refund-form", context)
        return reswap(retarget(response, "#refund-form"), "outerHTML")
    return render(request, DETAIL, context, status=400)
