"""Dashboard pages to set up carriers and their services (rates: see staff.carriers)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.htmx import redirect_for
from config.staff import staff_required
from fulfillment.forms import CarrierForm, CarrierServiceForm
from fulfillment.models import Carrier, CarrierRate, CarrierService
from fulfillment.services import (
    ShipmentError,
    carrier_save,
    carrier_service_save,
    carrier_service_set_active,
    carrier_set_active,
)

CARRIERS = "fulfillment/staff/carriers.html"
CARRIER_FORM = "fulfillment/staff/carrier_form.html"
SERVICE_FORM = "fulfillment/staff/carrier_service_form.html"


def _carrier_card(carrier_pk: int) -> Carrier:
    """One carrier as the carriers page shows it, with services, rates and zones."""
    rates = CarrierRate.objects.select_related("zone")
    return get_object_or_404(
        Carrier.objects.prefetch_related(Prefetch("services__rates", queryset=rates)),
        pk=carrier_pk,
    )


def _listed(carrier: Carrier) -> str:
    return f"{reverse('fulfillment:staff-carriers')}#carrier-{carrier.pk}"


def _form_page(request: HttpRequest, template: str, form: ModelForm, context: dict) -> HttpResponse:
    """The form again with its errors: the region alone for htmx, which swaps only 2xx
    answers, else the whole page with 400."""
    context = context | {"form": form}
    if request.htmx:
        return render(request, f"{template}#edit-form", context)
    return render(request, template, context, status=400 if form.is_bound else 200)


@staff_required("fulfillment.add_carrier")
def carrier_new(request: HttpRequest) -> HttpResponse:
    form = CarrierForm(request.POST or None)
    if form.is_valid():
        try:
            carrier = carrier_save(carrier=form.instance)
        except ShipmentError as err:
            form.add_error("code", str(err))
        else:
            messages.success(request, f"Carrier “{carrier.name}” added. Now add its services.")
            next_url = reverse("fulfillment:staff-service-new", args=[carrier.pk])
            return redirect_for(request, next_url)
    return _form_page(request, CARRIER_FORM, form, {"carrier": None})


@staff_required("fulfillment.view_carrier")
def carrier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    carrier = get_object_or_404(Carrier, pk=pk)
    context = {"carrier": carrier, "heading": carrier.name}  # read before binding
    if request.method == "POST" and not request.user.has_perm("fulfillment.change_carrier"):
        raise PermissionDenied("Your role cannot change carriers.")
    form = CarrierForm(request.POST or None, instance=carrier)
    if form.is_valid():
        try:
            carrier_save(carrier=form.instance)
        except ShipmentError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, f"Carrier “{carrier.name}” saved.")
            return redirect_for(request, _listed(carrier))
    return _form_page(request, CARRIER_FORM, form, context)


@staff_required("fulfillment.add_carrierservice")
def service_new(request: HttpRequest, pk: int) -> HttpResponse:
    carrier = get_object_or_404(Carrier, pk=pk)
    form = CarrierServiceForm(request.POST or None, carrier=carrier)
    if form.is_valid():
        try:
            service = carrier_service_save(service=form.instance)
        except ShipmentError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, f"Service “{service}” added. Give it rates below.")
            return redirect_for(request, _listed(carrier))
    return _form_page(request, SERVICE_FORM, form, {"carrier": carrier, "service": None})


@staff_required("fulfillment.view_carrierservice")
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(CarrierService.objects.select_related("carrier"), pk=pk)
    context = {"carrier": service.carrier, "service": service, "heading": service.name}
    if request.method == "POST" and not request.user.has_perm("fulfillment.change_carrierservice"):
        raise PermissionDenied("Your role cannot change carrier services.")
    form = CarrierServiceForm(request.POST or None, instance=service, carrier=service.carrier)
    if form.is_valid():
        try:
            carrier_service_save(service=form.instance)
        except ShipmentError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, f"Service “{service}” saved.")
            return redirect_for(request, _listed(service.carrier))
    return _form_page(request, SERVICE_FORM, form, context)


def _switched(request: HttpRequest, carrier_pk: int, note: str) -> HttpResponse:
    """After switching on or off: the carrier's card (saying what changed) for htmx, else
    back to the list with the note as a message."""
    if request.htmx:
        card = _carrier_card(carrier_pk)
        return render(request, f"{CARRIERS}#carrier-card", {"carrier": card, "note": note})
    messages.success(request, note)
    return redirect_for(request, f"{reverse('fulfillment:staff-carriers')}#carrier-{carrier_pk}")


@staff_required("fulfillment.change_carrier")
@require_POST
def carrier_active(request: HttpRequest, pk: int) -> HttpResponse:
    carrier = get_object_or_404(Carrier, pk=pk)
    active = request.POST.get("active") == "1"
    carrier_set_active(carrier=carrier, active=active)
    return _switched(request, carrier.pk, f"{carrier.name} switched {'on' if active else 'off'}.")


@staff_required("fulfillment.change_carrierservice")
@require_POST
def service_active(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(CarrierService.objects.select_related("carrier"), pk=pk)
    active = request.POST.get("active") == "1"
    carrier_service_set_active(service=service, active=active)
    return _switched(
        request, service.carrier_id, f"{service} switched {'on' if active else 'off'}."
    )
