"""Dashboard pages for returns: the list, one return with its steps, and the report."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.staff import staff_required
from fulfillment.forms import DecisionForm, ReceiveForm, SettleForm
from fulfillment.models import ReturnRequest
from fulfillment.reports import returns_report
from fulfillment.returns import (
    ReturnError,
    exchange_choices,
    return_decide,
    return_exchange,
    return_receive,
    return_refund,
)
from fulfillment.selectors import return_for_page, returns_for_staff
from orders.payments import PaymentError

PAGE_SIZE = 50


@staff_required("fulfillment.view_returnrequest")
def returns(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ReturnRequest.Status.values:
        status = ""
    page = Paginator(returns_for_staff(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": ReturnRequest.Status.choices}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "fulfillment/staff/returns.html#return-rows", context)
    return render(request, "fulfillment/staff/returns.html", context)


def _context(ret: ReturnRequest, user=None, **forms: object) -> dict:
    lines = list(ret.lines.all())
    context = {"ret": ret, "lines": lines}
    if ret.status == ReturnRequest.Status.REQUESTED:
        context["decision"] = forms.get("decision") or DecisionForm()
    if ret.status == ReturnRequest.Status.APPROVED:
        context["receive"] = forms.get("receive") or ReceiveForm(lines=lines)
    if ret.status == ReturnRequest.Status.RECEIVED:
        choices = {line: exchange_choices(line) for line in lines}
        # Only staff who may send money back are offered the refund.
        can_refund = user is None or user.has_perm("orders.add_refund")
        context["settle"] = forms.get("settle") or SettleForm(
            choices=choices, can_refund=can_refund
        )
    return context


@staff_required("fulfillment.view_returnrequest")
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ret = return_for_page(pk)
    if request.htmx and not request.htmx.history_restore_request:
        return render(
            request, "fulfillment/staff/return.html#return-work", _context(ret, request.user)
        )
    return render(request, "fulfillment/staff/return.html", _context(ret, request.user))


def _after(request: HttpRequest, ret: ReturnRequest, **forms: object) -> HttpResponse:
    """Back to the return: the fresh work region for htmx, a redirect otherwise; a form
    with errors is shown again with a 400."""
    ret = return_for_page(ret.pk)
    failed = any(form.errors for form in forms.values())
    if request.htmx:
        return render(
            request,
            "fulfillment/staff/return.html#return-work",
            _context(ret, request.user, **forms),
        )
    if failed:
        return render(
            request,
            "fulfillment/staff/return.html",
            _context(ret, request.user, **forms),
            status=400,
        )
    return redirect("fulfillment:staff-return", ret.pk)


@staff_required("fulfillment.change_returnrequest")
@require_POST
def return_decision(request: HttpRequest, pk: int) -> HttpResponse:
    ret = return_for_page(pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            return_decide(
                return_request=ret,
                approve=form.cleaned_data["decision"] == "approve",
                message=form.cleaned_data["message"],
                actor=request.user,
            )
            messages.success(request, f"Return {ret.number} {ret.get_status_display().lower()}.")
            form = None
        except ReturnError as err:
            form.add_error(None, str(err))
    return _after(request, ret, **({"decision": form} if form else {}))


@staff_required("fulfillment.change_returnrequest")
@require_POST
def return_receiving(request: HttpRequest, pk: int) -> HttpResponse:
    ret = return_for_page(pk)
    form = ReceiveForm(request.POST, lines=list(ret.lines.all()))
    if form.is_valid():
        try:
            return_receive(
                return_request=ret,
                received=form.received(),
                warehouse=form.cleaned_data["warehouse"],
                actor=request.user,
            )
            messages.success(request, f"Return {ret.number} received.")
            form = None
        except ReturnError as err:
            form.add_error(None, str(err))
    return _after(request, ret, **({"receive": form} if form else {}))


@staff_required("fulfillment.change_returnrequest")
@require_POST
def return_settle(request: HttpRequest, pk: int) -> HttpResponse:
    ret = return_for_page(pk)
    lines = list(ret.lines.all())
    form = SettleForm(request.POST, choices={line: exchange_choices(line) for line in lines})
    if form.is_valid():
        try:
            if form.cleaned_data["action"] == "refund":
                # Money goes back: the same permission as the orders refund page.
                if not request.user.has_perm("orders.add_refund"):
                    raise PermissionDenied
                refund = return_refund(return_request=ret, actor=request.user)
                messages.success(request, f"Refunded {refund.amount} {refund.currency}.")
            else:
                return_exchange(
                    return_request=ret, replacements=form.replacements(), actor=request.user
                )
                messages.success(request, "Replacement allocated; ship it from the parcel below.")
            form = None
        except (ReturnError, PaymentError) as err:
            form.add_error(None, str(err))
    return _after(request, ret, **({"settle": form} if form else {}))


@staff_required("fulfillment.view_returnrequest")
def report_returns(request: HttpRequest) -> HttpResponse:
    try:
        since = datetime.date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = timezone.localdate() - datetime.timedelta(days=90)
    report = returns_report(since=since)
    if request.htmx and not request.htmx.history_restore_request:
        return render(
            request, "fulfillment/staff/report_returns.html#report-body", {"report": report}
        )
    return render(request, "fulfillment/staff/report_returns.html", {"report": report})
