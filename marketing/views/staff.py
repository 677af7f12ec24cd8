"""The marketing dashboard: the cart-abandonment sequence and what it brought back."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from config.staff import staff_required
from marketing.abandonment import abandonment_sequence_get, abandonment_sequence_update
from marketing.forms import AbandonmentSequenceForm, ReportRangeForm
from marketing.selectors import abandonment_report

TEMPLATE = "marketing/staff/index.html"


def _sequence_initial() -> dict:
    sequence = abandonment_sequence_get()
    return {
        "enabled": sequence.enabled,
        "step1_delay_hours": sequence.step1_delay_hours,
        "step2_delay_hours": sequence.step2_delay_hours,
        "voucher_percent": sequence.voucher_percent,
        "voucher_valid_days": sequence.voucher_valid_days,
    }


def _context(request: HttpRequest, sequence_form: AbandonmentSequenceForm) -> dict:
    range_form = ReportRangeForm(request.GET if "start" in request.GET else None)
    chosen = range_form.cleaned_data if range_form.is_valid() else ReportRangeForm.default_range()
    if not range_form.is_bound:
        range_form = ReportRangeForm(initial=chosen)
    return {
        "sequence_form": sequence_form,
        "range_form": range_form,
        "report": abandonment_report(start=chosen["start"], end=chosen["end"]),
        "currency": settings.STORE_CURRENCY,
    }


@staff_required("marketing.access_marketing")
def index(request: HttpRequest) -> HttpResponse:
    context = _context(request, AbandonmentSequenceForm(initial=_sequence_initial()))
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{TEMPLATE}#abandonment-report", context)
    return render(request, TEMPLATE, context)


@staff_required("marketing.change_abandonmentsequence")
@require_POST
def sequence_update(request: HttpRequest) -> HttpResponse:
    form = AbandonmentSequenceForm(request.POST)
    if form.is_valid():
        abandonment_sequence_update(**form.cleaned_data)
        messages.success(request, "Cart-abandonment emails saved.")
        if request.htmx:
            form = AbandonmentSequenceForm(initial=_sequence_initial())
            return render(request, f"{TEMPLATE}#sequence-form", {"sequence_form": form})
        return redirect("marketing:staff-index")
    if request.htmx:  # htmx swaps only 2xx answers: the errors must come back as 200
        return render(request, f"{TEMPLATE}#sequence-form", {"sequence_form": form})
    return render(request, TEMPLATE, _context(request, form), status=400)
