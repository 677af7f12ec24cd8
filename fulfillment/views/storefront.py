"""The shopper's return pages, reached from their order page: signed in (their own
orders only) or through the guest's signed order-status link."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from config.htmx import redirect_for
from fulfillment.forms import ReturnRequestForm
from fulfillment.models import ReturnRequest
from fulfillment.returns import ReturnError, return_request_create, returnable_units
from fulfillment.selectors import return_get_for_order_or_404, return_get_for_user_or_404
from orders.models import Order
from orders.selectors import order_get_for_status_token_or_404, order_get_for_user_or_404


def _request_page(request: HttpRequest, order: Order, done_url, *, user=None) -> HttpResponse:
    allowed = returnable_units(order=order)
    lines = list(order.lines.all())
    form = ReturnRequestForm(request.POST or None, lines=lines, allowed=allowed)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ret = return_request_create(
                    order=order,
                    lines=form.chosen(),
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                    user=user,
                )
            except ReturnError as err:
                form.add_error(None, str(err))
            else:
                return redirect_for(request, done_url(ret))
        status = 400
    context = {
        "order": order,
        "form": form,
        "can_return": any(row.get("units") for row in allowed.values()),
        "returns": [(ret, done_url(ret)) for ret in order.returns.all()],
    }
    template = "fulfillment/storefront/return_request.html"
    if request.htmx:
        template += "#return-form"
    return render(request, template, context, status=status)


def account_return_create(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_user_or_404(user=request.user, number=number)
    return _request_page(
        request,
        order,
        lambda ret: reverse("fulfillment:account-return", args=[ret.pk]),
        user=request.user,
    )


def status_return_create(request: HttpRequest, token: str) -> HttpResponse:
    order = order_get_for_status_token_or_404(token=token)
    return _request_page(
        request, order, lambda ret: reverse("fulfillment:status-return", args=[token, ret.pk])
    )


def _detail(request: HttpRequest, ret: ReturnRequest, order_url: str) -> HttpResponse:
    return render(
        request,
        "fulfillment/storefront/return_detail.html",
        {"ret": ret, "order": ret.order, "order_url": order_url},
    )


def account_return(request: HttpRequest, pk: int) -> HttpResponse:
    ret = return_get_for_user_or_404(user=request.user, pk=pk)
    return _detail(request, ret, reverse("orders:account-order", args=[ret.order.number]))


def status_return(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    order = order_get_for_status_token_or_404(token=token)
    ret = return_get_for_order_or_404(order=order, pk=pk)
    return _detail(request, ret, reverse("orders:order-status", args=[token]))
