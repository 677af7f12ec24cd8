"""Dashboard pages for stock: the overview, one variant's stock and ledger, alerts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from catalog.models import Variant
from config.staff import staff_required
from inventory.forms import AdjustForm, StockFilterForm, TransferForm
from inventory.models import StockLevel
from inventory.selectors import alerts_for_staff, ledger_for_variant, stock_list_for_staff
from inventory.services import InventoryError, stock_adjust, stock_transfer

PAGE_SIZE = 50


@staff_required("inventory.access_inventory")
def index(request: HttpRequest) -> HttpResponse:
    return redirect("inventory:staff-stock")


@staff_required("inventory.view_stocklevel")
def stock_list(request: HttpRequest) -> HttpResponse:
    filters = StockFilterForm(request.GET)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(stock_list_for_staff(filters=cleaned), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "query_without_page": query.urlencode()}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "inventory/staff/stock_list.html#stock-rows", context)
    return render(request, "inventory/staff/stock_list.html", context)


@staff_required("inventory.view_stocklevel")
def variant_stock(request: HttpRequest, variant_pk: int) -> HttpResponse:
    variant = get_object_or_404(Variant.objects.select_related("product"), pk=variant_pk)
    adjust, transfer = AdjustForm(prefix="adjust"), TransferForm(prefix="transfer")
    if request.method == "POST":
        if not request.user.has_perm("inventory.change_stocklevel"):
            raise PermissionDenied("Your role cannot change stock.")
        if "adjust-delta" in request.POST:
            adjust = AdjustForm(request.POST, prefix="adjust")
            if adjust.is_valid() and _apply(
                request, adjust, stock_adjust, variant, reason_form=True
            ):
                return redirect("inventory:staff-variant", variant.pk)
        else:
            transfer = TransferForm(request.POST, prefix="transfer")
            if transfer.is_valid() and _apply(request, transfer, stock_transfer, variant):
                return redirect("inventory:staff-variant", variant.pk)
    context = {
        "variant": variant,
        "levels": list(
            StockLevel.objects.filter(variant=variant)
            .select_related("warehouse")
            .annotate(free=F("on_hand") - F("allocated"))
            .order_by("warehouse__priority")
        ),
        "ledger": ledger_for_variant(variant_id=variant.pk),
        "adjust": adjust,
        "transfer": transfer,
    }
    return render(
        request,
        "inventory/staff/variant_stock.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def _apply(
    request: HttpRequest, form, service, variant: Variant, *, reason_form: bool = False
) -> bool:
    try:
        service(variant_id=variant.pk, actor=request.user, **form.cleaned_data)
    except InventoryError as err:
        form.add_error(None, str(err))
        return False
    messages.success(request, "Stock updated; the change is in the ledger.")
    return True


@staff_required("inventory.view_stockalert")
def alerts(request: HttpRequest) -> HttpResponse:
    open_alerts, resolved = alerts_for_staff()
    return render(
        request, "inventory/staff/alerts.html", {"open_alerts": open_alerts, "resolved": resolved}
    )
