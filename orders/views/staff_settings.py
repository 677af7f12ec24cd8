"""Store settings of the orders pillar: shipping zones, methods and rates; tax rates;
vouchers. Owners and Managers change them (orders.change_* / add_*); Support does not."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from config.htmx import redirect_for
from config.staff import staff_required
from orders.forms_staff import (
    ShippingMethodForm,
    ShippingRateFormSet,
    ShippingZoneForm,
    TaxRateForm,
    VoucherForm,
)
from orders.models import ShippingMethod, ShippingZone, TaxRate, Voucher


@staff_required("orders.change_shippingzone")
def index(request: HttpRequest) -> HttpResponse:
    return redirect("orders:staff-shipping")


def _page(
    request: HttpRequest, template: str, context: dict, *, invalid_region: str | None = None
) -> HttpResponse:
    """The page; after a POST with errors, with htmx, only the form that has them (200, so
    htmx swaps it), without htmx the whole page with status 400."""
    if invalid_region and request.htmx:
        return render(request, f"{template}#{invalid_region}", context)
    return render(request, template, context, status=400 if invalid_region else 200)


def _done(request: HttpRequest, message: str, url_name: str, *args: object) -> HttpResponse:
    messages.success(request, message)
    return redirect_for(request, reverse(url_name, args=args))


def _need(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"Your role does not include {permission}.")


@staff_required("orders.change_shippingzone")
def shipping(request: HttpRequest) -> HttpResponse:
    form = ShippingZoneForm()
    if request.method == "POST":
        _need(request, "orders.add_shippingzone")
        form = ShippingZoneForm(request.POST)
        if form.is_valid():
            zone = form.save()
            message = f"Zone {zone.name} added; now add its shipping methods."
            return _done(request, message, "orders:staff-zone", zone.pk)
    zones = ShippingZone.objects.prefetch_related(
        Prefetch("methods", queryset=ShippingMethod.objects.prefetch_related("rates"))
    )
    context = {"zones": zones, "form": form, "tab": "shipping"}
    invalid = "zone-form" if form.errors else None
    return _page(request, "orders/staff/settings_shipping.html", context, invalid_region=invalid)


@staff_required("orders.change_shippingzone")
def zone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    zone = get_object_or_404(ShippingZone, pk=pk)
    form = ShippingZoneForm(instance=zone)
    method_form = ShippingMethodForm(prefix="method")
    if request.method == "POST" and request.POST.get("action") == "delete":
        _need(request, "orders.delete_shippingzone")
        name = zone.name
        zone.delete()
        messages.success(request, f"Zone {name} and its methods deleted.")
        return redirect("orders:staff-shipping")
    if request.method == "POST" and request.POST.get("action") == "add-method":
        _need(request, "orders.add_shippingmethod")
        method_form = ShippingMethodForm(request.POST, prefix="method")
        if method_form.is_valid():
            method = method_form.save(commit=False)
            method.zone = zone
            method.save()
            return _done(request, f"Method {method.name} added.", "orders:staff-method", method.pk)
    elif request.method == "POST":
        form = ShippingZoneForm(request.POST, instance=zone)
        if form.is_valid():
            form.save()
            return _done(request, "Zone saved.", "orders:staff-zone", zone.pk)
    context = {
        "zone": zone,
        "form": form,
        "method_form": method_form,
        "methods": list(zone.methods.prefetch_related("rates")),
        "tab": "shipping",
    }
    invalid = "zone-form" if form.errors else ("method-form" if method_form.errors else None)
    return _page(request, "orders/staff/settings_zone.html", context, invalid_region=invalid)


@staff_required("orders.change_shippingmethod")
def method_edit(request: HttpRequest, pk: int) -> HttpResponse:
    method = get_object_or_404(ShippingMethod.objects.select_related("zone"), pk=pk)
    if request.method == "POST" and request.POST.get("action") == "delete":
        _need(request, "orders.delete_shippingmethod")
        method.delete()
        messages.success(request, f"Method {method.name} deleted.")
        return redirect("orders:staff-zone", method.zone_id)
    form = ShippingMethodForm(request.POST or None, instance=method)
    rates = ShippingRateFormSet(request.POST or None, instance=method, prefix="rates")
    if request.method == "POST" and form.is_valid() and rates.is_valid():
        with transaction.atomic():
            form.save()
            rates.save()
        return _done(request, f"Method {method.name} saved.", "orders:staff-method", method.pk)
    context = {"method": method, "form": form, "rates": rates, "tab": "shipping"}
    invalid = "method-form" if request.method == "POST" else None
    return _page(request, "orders/staff/settings_method.html", context, invalid_region=invalid)


@staff_required("orders.change_taxrate")
def taxes(request: HttpRequest) -> HttpResponse:
    form = TaxRateForm()
    if request.method == "POST":
        _need(request, "orders.add_taxrate")
        form = TaxRateForm(request.POST)
        if form.is_valid():
            rate = form.save()
            return _done(request, f"{rate} added.", "orders:staff-taxes")
    context = {
        "rates": TaxRate.objects.all(),
        "form": form,
        "tab": "taxes",
        "prices_include_tax": settings.PRICES_INCLUDE_TAX,
    }
    invalid = "tax-form" if form.errors else None
    return _page(request, "orders/staff/settings_taxes.html", context, invalid_region=invalid)


@staff_required("orders.change_taxrate")
def tax_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rate = get_object_or_404(TaxRate, pk=pk)
    if request.method == "POST" and request.POST.get("action") == "delete":
        _need(request, "orders.delete_taxrate")
        rate.delete()
        messages.success(request, f"{rate} deleted.")
        return redirect("orders:staff-taxes")
    form = TaxRateForm(request.POST or None, instance=rate)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _done(request, f"{rate} saved.", "orders:staff-taxes")
    context = {"rate": rate, "form": form, "tab": "taxes"}
    invalid = "tax-form" if request.method == "POST" else None
    return _page(request, "orders/staff/settings_tax.html", context, invalid_region=invalid)


@staff_required("orders.change_voucher")
def vouchers(request: HttpRequest) -> HttpResponse:
    rows = Voucher.objects.annotate(
        product_count=Count("products", distinct=True),
        category_count=Count("categories", distinct=True),
    )
    return render(
        request, "orders/staff/settings_vouchers.html", {"vouchers": rows, "tab": "vouchers"}
    )


@staff_required("orders.change_voucher")
def voucher_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    voucher = get_object_or_404(Voucher, pk=pk) if pk else None
    if voucher is None:
        _need(request, "orders.add_voucher")
    initial = {} if voucher else {"kind": Voucher.Kind.PERCENTAGE}
    form = VoucherForm(request.POST or None, instance=voucher, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        return _done(request, f"Voucher {saved.code} saved.", "orders:staff-vouchers")
    context = {"voucher": voucher, "form": form, "tab": "vouchers"}
    invalid = "voucher-form" if request.method == "POST" else None
    return _page(request, "orders/staff/settings_voucher.html", context, invalid_region=invalid)
