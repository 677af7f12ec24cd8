"""Dashboard pages for fulfillment: queue, pick list, packing, shipments, carriers."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from config.charts import line_chart
from config.htmx import redirect_for
from config.staff import staff_required
from fulfillment.carriers import proposed, service_options
from fulfillment.forms import RateForm, ScanForm, ShipForm, ShipmentStatusForm
from fulfillment.models import Carrier, CarrierRate, Shipment
from fulfillment.reports import delivery_performance
from fulfillment.selectors import (
    fulfillment_queue,
    open_pack,
    packable_lines,
    pick_list,
    shipment_for_page,
    shipments_for_staff,
)
from fulfillment.services import (
    ShipmentError,
    carrier_rate_delete,
    carrier_rate_save,
    shipment_scan,
    shipment_ship,
    shipment_transition,
)
from inventory.models import Warehouse
from orders.models import Order

PAGE_SIZE = 50


def _warehouse(code: str) -> Warehouse:
    return get_object_or_404(Warehouse, code=code)


@staff_required("fulfillment.access_fulfillment")
def index(request: HttpRequest) -> HttpResponse:
    warehouse = Warehouse.objects.filter(is_active=True).first()
    if warehouse is None or not request.user.has_perm("fulfillment.view_shipment"):
        return redirect("fulfillment:staff-returns")
    return redirect("fulfillment:staff-queue", warehouse.code)


@staff_required("fulfillment.view_shipment")
def queue(request: HttpRequest, code: str) -> HttpResponse:
    warehouse = _warehouse(code)
    rows = fulfillment_queue(warehouse=warehouse)
    context = {
        "warehouse": warehouse,
        "warehouses": list(Warehouse.objects.filter(is_active=True)),
        "rows": rows,
        "replacements": list(
            Shipment.objects.filter(
                warehouse=warehouse,
                status=Shipment.Status.READY,
                return_request__isnull=False,
            ).select_related("order", "return_request")
        ),
        "due": sum(1 for row in rows if row.due_today and not row.held),
        "cutoff": settings.FULFILLMENT_CUTOFF,
        "today": timezone.localdate(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "fulfillment/staff/queue.html#queue-rows", context)
    return render(request, "fulfillment/staff/queue.html", context)


@staff_required("fulfillment.view_shipment")
def pick(request: HttpRequest, code: str) -> HttpResponse:
    warehouse = _warehouse(code)
    numbers = request.GET.getlist("orders")
    if not numbers:
        messages.error(request, "Tick the orders to pick first.")
        return redirect("fulfillment:staff-queue", warehouse.code)
    orders, rows = pick_list(warehouse=warehouse, numbers=numbers[:200])
    skipped = sorted(set(numbers) - {order.number for order in orders})
    context = {
        "warehouse": warehouse,
        "orders": orders,
        "rows": rows,
        "skipped": skipped,
        "units": sum(row.quantity for row in rows),
        "printed_at": timezone.localtime(),
    }
    return render(request, "fulfillment/staff/pick_list.html", context)


def _pack_context(order: Order, warehouse: Warehouse, scan: ScanForm, **extra: object) -> dict:
    shipment = open_pack(order=order, warehouse=warehouse)
    rows = packable_lines(order=order, warehouse=warehouse, shipment=shipment)
    packed_weight = sum(row.line.weight_grams * row.packed for row in rows)
    options = service_options(order=order, weight_grams=packed_weight) if shipment else []
    best = proposed(options)
    ship = ShipForm(
        options=options,
        initial={"service": best.service.pk if best else None, "weight_grams": packed_weight},
    )
    return {
        "order": order,
        "warehouse": warehouse,
        "shipment": shipment,
        "rows": rows,
        "scan": scan,
        "ship": ship,
        "proposal": best,
        "packed": sum(row.packed for row in rows),
        "to_pack": sum(row.packable for row in rows),
        "held": order.status == Order.Status.ON_HOLD,
        **extra,
    }


@staff_required("fulfillment.add_shipment")
def pack(request: HttpRequest, code: str, number: str) -> HttpResponse:
    """The packing bench: scan each item; a wrong item or one too many is refused."""
    warehouse = _warehouse(code)
    order = get_object_or_404(Order.objects.select_related("shipping_method__zone"), number=number)
    scan, last, status = ScanForm(), None, 200
    if request.method == "POST" and "start_over" in request.POST:
        shipment = open_pack(order=order, warehouse=warehouse)
        if shipment is not None:
            shipment_transition(
                shipment=shipment,
                to=Shipment.Status.CANCELLED,
                actor=request.user,
                message="Packing started over; the items go back to the shelf.",
            )
        return redirect_for(request, request.path)
    if request.method == "POST":
        scan = ScanForm(request.POST)
        if scan.is_valid():
            try:
                last = shipment_scan(
                    order=order, warehouse=warehouse, actor=request.user, **scan.cleaned_data
                )
                scan = ScanForm()
            except ShipmentError as err:
                scan.add_error("code", str(err))
        if scan.errors:
            status = 400
    context = _pack_context(order, warehouse, scan, last=last)
    if request.htmx:
        response = render(request, "fulfillment/staff/pack.html#pack-work", context)
        return trigger_client_event(response, "packed") if last else response
    return render(request, "fulfillment/staff/pack.html", context, status=status)


@staff_required("fulfillment.view_shipment")
def packing_slip(request: HttpRequest, code: str, number: str) -> HttpResponse:
    warehouse = _warehouse(code)
    order = get_object_or_404(Order, number=number)
    shipment = open_pack(order=order, warehouse=warehouse)
    rows = packable_lines(order=order, warehouse=warehouse, shipment=shipment)
    return render(
        request,
        "fulfillment/staff/packing_slip.html",
        {"order": order, "warehouse": warehouse, "rows": rows, "shipment": shipment},
    )


@staff_required("fulfillment.change_shipment")
@require_POST
def ship(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = shipment_for_page(pk)
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            shipment_ship(shipment=shipment, actor=request.user, **form.cleaned_data)
        except ShipmentError as err:
            messages.error(request, str(err))
        else:
            messages.success(request, f"Shipped with {form.cleaned_data['service']}.")
            return redirect("fulfillment:staff-shipment", shipment.pk)
    else:
        messages.error(request, "Choose a carrier service and the parcel's weight.")
    if shipment.return_request_id is None:
        return redirect("fulfillment:staff-pack", shipment.warehouse.code, shipment.order.number)
    return redirect("fulfillment:staff-shipment", shipment.pk)


@staff_required("fulfillment.view_shipment")
def shipments(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Shipment.Status.values:
        status = ""
    page = Paginator(shipments_for_staff(status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "status": status, "statuses": Shipment.Status.choices}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "fulfillment/staff/shipments.html#shipment-rows", context)
    return render(request, "fulfillment/staff/shipments.html", context)


@staff_required("fulfillment.view_shipment")
def shipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = shipment_for_page(pk)
    context = {"shipment": shipment, "status_form": ShipmentStatusForm()}
    if shipment.status == Shipment.Status.READY:
        weight = sum(
            (line.variant.weight_grams if line.variant else 0) * line.quantity
            for line in shipment.lines.all()
        )
        options = service_options(order=shipment.order, weight_grams=weight)
        best = proposed(options)
        context["ship"] = ShipForm(
            options=options,
            initial={"service": best.service.pk if best else None, "weight_grams": weight},
        )
        context["proposal"] = best
    return render(request, "fulfillment/staff/shipment.html", context)


@staff_required("fulfillment.change_shipment")
@require_POST
def shipment_status(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = get_object_or_404(Shipment, pk=pk)
    form = ShipmentStatusForm(request.POST)
    if form.is_valid():
        try:
            shipment_transition(
                shipment=shipment,
                to=form.cleaned_data["status"],
                actor=request.user,
                message=form.cleaned_data["message"],
            )
        except ShipmentError as err:
            messages.error(request, str(err))
        else:
            messages.success(request, f"Parcel marked {shipment.get_status_display().lower()}.")
    else:
        messages.error(request, "Choose what happened to the parcel.")
    if request.htmx:
        shipment = shipment_for_page(pk)
        return render(
            request,
            "fulfillment/staff/shipment.html#shipment-status",
            {"shipment": shipment, "status_form": ShipmentStatusForm()},
        )
    return redirect("fulfillment:staff-shipment", pk)


@staff_required("fulfillment.view_carrier")
def carriers(request: HttpRequest) -> HttpResponse:
    form, status = RateForm(), 200
    if request.method == "POST":
        if not request.user.has_perm("fulfillment.change_carrierrate"):
            raise PermissionDenied("Your role cannot change rate tables.")
        if "delete" in request.POST:
            rate = get_object_or_404(CarrierRate, pk=request.POST.get("delete", "").strip() or 0)
            carrier_rate_delete(rate=rate)
            messages.success(request, "Rate removed.")
            return redirect("fulfillment:staff-carriers")
        form = RateForm(request.POST)
        if form.is_valid():
            carrier_rate_save(**form.cleaned_data)
            messages.success(request, "Rate saved.")
            return redirect("fulfillment:staff-carriers")
        status = 400
    carriers = Carrier.objects.prefetch_related("services__rates__zone")
    return render(
        request,
        "fulfillment/staff/carriers.html",
        {"carriers": carriers, "form": form},
        status=status,
    )


@staff_required("fulfillment.view_shipment")
def report_delivery(request: HttpRequest) -> HttpResponse:
    try:
        weeks = min(max(int(request.GET.get("weeks", 8)), 2), 52)
    except ValueError:
        weeks = 8
    report = delivery_performance(weeks=weeks)
    # Weeks without parcels are left out of the lines rather than drawn as zero.
    on_time = [
        round(week.on_time_rate * 100, 1)
        for week in report["weeks"]
        if week.on_time_rate is not None
    ]
    to_ship = [
        round(week.avg_hours_to_ship, 1)
        for week in report["weeks"]
        if week.avg_hours_to_ship is not None
    ]
    context = {
        "report": report,
        "weeks": weeks,
        "on_time_chart": line_chart(on_time),
        "to_ship_chart": line_chart(to_ship),
        "cutoff": settings.FULFILLMENT_CUTOFF,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "fulfillment/staff/report_delivery.html#report-body", context)
    return render(request, "fulfillment/staff/report_delivery.html", context)
