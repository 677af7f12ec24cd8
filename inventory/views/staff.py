"""Dashboard pages for stock: the overview, one variant's stock and ledger, alerts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.models import Variant
from config.charts import line_chart
from config.staff import staff_required
from inventory.counting import (
    cycle_count_accuracy,
    cycle_count_approve,
    cycle_count_record,
    cycle_count_start,
)
from inventory.forms import (
    AdjustForm,
    BulkAdjustForm,
    CountStartForm,
    ScanForm,
    StockFilterForm,
    SupplierForm,
    SupplierItemForm,
    TransferForm,
)
from inventory.models import (
    CycleCount,
    PurchaseOrder,
    SalesChannel,
    StockAlert,
    Supplier,
    SupplierItem,
    WebhookDelivery,
)
from inventory.purchasing import (
    OverReceipt,
    purchase_order_receive,
    purchase_order_send,
    purchase_order_transition,
    purchase_orders_from_alerts,
    supplier_item_remove,
    supplier_item_save,
    supplier_save,
)
from inventory.selectors import (
    alerts_for_staff,
    ledger_for_variant,
    on_hand_history,
    stock_list_for_staff,
    stock_with_free,
)
from inventory.services import InventoryError, stock_adjust, stock_adjust_bulk, stock_transfer
from inventory.stock_csv import stock_csv_export, stock_csv_import, stock_csv_parse

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
    context = {
        "filters": filters,
        "page": page,
        "query_without_page": query.urlencode(),
        "reasons": BulkAdjustForm.base_fields["reason"].choices,
    }
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
            stock_with_free()
            .filter(variant=variant)
            .select_related("warehouse")
            .order_by("warehouse__priority", "pk")
        ),
        "ledger": ledger_for_variant(variant_id=variant.pk),
        "chart": line_chart(on_hand_history(variant_id=variant.pk)),
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


# --- Purchase orders --------------------------------------------------------------------------


@staff_required("inventory.view_purchaseorder")
def purchase_orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    orders = (
        PurchaseOrder.objects.select_related("supplier", "warehouse")
        .annotate(units=Sum("lines__quantity_ordered"))
        .order_by("-created_at", "-pk")
    )
    if status in PurchaseOrder.Status.values:
        orders = orders.filter(status=status)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": PurchaseOrder.Status.choices}
    return render(request, "inventory/staff/purchase_orders.html", context)


def _order_or_404(pk: int) -> PurchaseOrder:
    return get_object_or_404(
        PurchaseOrder.objects.select_related("supplier", "warehouse").prefetch_related(
            "lines__variant__product", "events__actor"
        ),
        pk=pk,
    )


@staff_required("inventory.view_purchaseorder")
def purchase_order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(pk)
    template = "inventory/staff/purchase_order_print.html" if request.GET.get("print") else None
    context = {"order": order, "lines": list(order.lines.all()), "over": None}
    return render(request, template or "inventory/staff/purchase_order.html", context)


@staff_required("inventory.change_purchaseorder")
@require_POST
def purchase_order_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Send, cancel or receive, by the button pressed."""
    order = _order_or_404(pk)
    action = request.POST.get("action")
    try:
        if action == "send":
            purchase_order_send(order=order, actor=request.user)
            messages.success(request, f"{order.number} is sent to {order.supplier.email}.")
        elif action == "cancel":
            purchase_order_transition(
                order=order, to=PurchaseOrder.Status.CANCELLED, actor=request.user
            )
            messages.success(request, f"{order.number} is cancelled.")
        elif action == "receive":
            if not request.user.has_perm("inventory.change_stocklevel"):
                raise PermissionDenied("Receiving changes stock; your role cannot.")
            quantities = _received(request, order)
            purchase_order_receive(
                order=order,
                quantities=quantities,
                actor=request.user,
                confirm_over=request.POST.get("confirm_over") == "1",
            )
            messages.success(request, "Received into stock; the ledger has the receipts.")
        else:
            messages.error(request, "Unknown action.")
    except OverReceipt as err:
        lines = list(order.lines.all())
        for line in lines:  # the same amounts again, for the person to confirm
            line.posted = request.POST.get(f"receive-{line.pk}", "")
        context = {"order": order, "lines": lines, "over": str(err)}
        return render(request, "inventory/staff/purchase_order.html", context, status=409)
    except InventoryError as err:
        messages.error(request, str(err))
    return redirect("inventory:staff-purchase-order", order.pk)


def _received(request: HttpRequest, order: PurchaseOrder) -> dict[int, int]:
    quantities = {}
    for line in order.lines.all():
        raw = request.POST.get(f"receive-{line.pk}", "").strip() or "0"
        if not (raw.isascii() and raw.isdigit()):
            raise InventoryError(f"“{raw}” is not a number of units.")
        quantities[line.pk] = int(raw)
    if not any(quantities.values()):
        raise InventoryError("Enter how many units arrived.")
    return quantities


@staff_required("inventory.add_purchaseorder")
@require_POST
def reorder(request: HttpRequest) -> HttpResponse:
    """Draft purchase orders for the open alerts ticked on the alerts page."""
    ids = [int(pk) for pk in request.POST.getlist("alerts") if pk.isascii() and pk.isdigit()]
    alerts_ = list(
        StockAlert.objects.filter(pk__in=ids, resolved_at__isnull=True).select_related("stock")
    )
    if not alerts_:
        messages.error(request, "Tick the alerts to reorder.")
        return redirect("inventory:staff-alerts")
    done = purchase_orders_from_alerts(alerts=alerts_, actor=request.user)
    if done.drafted:
        numbers = ", ".join(order.number for order in done.drafted)
        messages.success(request, f"Drafted for reorder: {numbers}.")
    if done.covered:
        messages.info(
            request, f"Already on an open purchase order, not ordered again: {len(done.covered)}."
        )
    if done.skipped:
        messages.warning(
            request,
            f"Not reordered, no preferred supplier: {len(done.skipped)}.",
        )
    return redirect("inventory:staff-purchase-orders")


# --- Suppliers -------------------------------------------------------------------------------


@staff_required("inventory.view_supplier")
def suppliers(request: HttpRequest) -> HttpResponse:
    rows = Supplier.objects.annotate(item_count=Count("items")).order_by("name")
    return render(request, "inventory/staff/suppliers.html", {"suppliers": rows})


@staff_required("inventory.view_supplier")
def supplier_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk) if pk else Supplier()
    form = SupplierForm(request.POST or None, instance=supplier)
    item_form = SupplierItemForm(prefix="item")
    if request.method == "POST":
        needed = "inventory.change_supplier" if pk else "inventory.add_supplier"
        if not request.user.has_perm(needed):
            raise PermissionDenied("Your role cannot change suppliers.")
        if "item-sku" in request.POST and pk:
            form = SupplierForm(instance=supplier)
            item_form = SupplierItemForm(request.POST, prefix="item")
            if item_form.is_valid():
                try:
                    supplier_item_save(supplier=supplier, **item_form.cleaned_data)
                except InventoryError as err:
                    item_form.add_error("sku", str(err))
                else:
                    messages.success(request, "Item saved.")
                    return redirect("inventory:staff-supplier", supplier.pk)
        elif form.is_valid():
            try:
                supplier = supplier_save(supplier=form.save(commit=False))
            except InventoryError as err:
                form.add_error(None, str(err))
            else:
                messages.success(request, "Supplier saved.")
                return redirect("inventory:staff-supplier", supplier.pk)
    items = (
        list(supplier.items.select_related("variant__product").order_by("variant__sku"))
        if pk
        else []
    )
    context = {"supplier": supplier, "form": form, "item_form": item_form, "items": items}
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/staff/supplier_form.html", context, status=status)


@staff_required("inventory.change_supplier")
@require_POST
def supplier_item_delete(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = get_object_or_404(SupplierItem, pk=item_pk, supplier_id=pk)
    supplier_item_remove(item=item)
    messages.success(request, "Item removed.")
    return redirect("inventory:staff-supplier", pk)


# --- Stock CSV ------------------------------------------------------------------------------


@staff_required("inventory.change_stocklevel")
def stock_import(request: HttpRequest) -> HttpResponse:
    """Upload stock counts; checked whole before anything changes (files are small)."""
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None or not upload.name.lower().endswith(".csv"):
            errors = ["Choose a .csv file."]
        elif upload.size > 10 * 1024 * 1024:
            errors = ["The file is larger than 10 MB; split it."]
        else:
            plan = stock_csv_parse(data=upload.read())
            errors = plan.errors
            if not errors:
                try:
                    result = stock_csv_import(plan=plan, actor=request.user)
                except InventoryError as err:  # stock moved since the file was checked
                    errors = [str(err)]
            if not errors:
                messages.success(
                    request,
                    f"{result['counted']} counts recorded, {result['unchanged']} unchanged.",
                )
                return redirect("inventory:staff-stock")
    status = 400 if errors else 200
    return render(
        request, "inventory/staff/stock_import.html", {"errors": errors[:300]}, status=status
    )


@staff_required("inventory.view_stocklevel")
def stock_export(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stock_csv_export(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="stock.csv"'
    return response


# --- Cycle counts ----------------------------------------------------------------------------


@staff_required("inventory.view_cyclecount")
def counts(request: HttpRequest) -> HttpResponse:
    form = CountStartForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("inventory.add_cyclecount"):
            raise PermissionDenied("Your role cannot start counts.")
        if form.is_valid():
            try:
                count = cycle_count_start(actor=request.user, **form.cleaned_data)
            except InventoryError as err:
                form.add_error(None, str(err))
            else:
                return redirect("inventory:staff-count", count.pk)
    history = list(
        CycleCount.objects.select_related("warehouse", "category").prefetch_related("lines")[:30]
    )
    for count in history:
        count.accuracy = cycle_count_accuracy(count=count)
    status = 400 if form.errors else 200
    return render(
        request, "inventory/staff/counts.html", {"form": form, "history": history}, status=status
    )


def _count_context(count: CycleCount, **extra: object) -> dict:
    lines = list(
        count.lines.select_related("stock__variant__product").order_by("stock__bin_location", "pk")
    )
    for line in lines:
        cost = line.stock.variant.cost
        line.value = None if line.variance is None or cost is None else cost * line.variance
    counted = [line for line in lines if line.counted is not None]
    return {
        "count": count,
        "lines": lines,
        "counted": len(counted),
        "accuracy": cycle_count_accuracy(count=count),
        "scan": ScanForm(),
        **extra,
    }


@staff_required("inventory.view_cyclecount")
def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404(CycleCount.objects.select_related("warehouse"), pk=pk)
    return render(request, "inventory/staff/count.html", _count_context(count))


@staff_required("inventory.change_cyclecount")
@require_POST
def count_scan(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404(CycleCount.objects.select_related("warehouse"), pk=pk)
    form = ScanForm(request.POST)
    last = None
    if form.is_valid():
        try:
            last = cycle_count_record(count=count, **form.cleaned_data)
        except InventoryError as err:
            form.add_error("code", str(err))
    context = _count_context(count, scan=form if form.errors else ScanForm(), last=last)
    if request.htmx:
        return render(request, "inventory/staff/count.html#count-work", context)
    return render(
        request, "inventory/staff/count.html", context, status=400 if form.errors else 200
    )


@staff_required("inventory.change_cyclecount")
@require_POST
def count_approve(request: HttpRequest, pk: int) -> HttpResponse:
    # Approval writes count movements to the ledger: a stock change, as receiving is.
    if not request.user.has_perm("inventory.change_stocklevel"):
        raise PermissionDenied("Approving a count changes stock; your role cannot.")
    count = get_object_or_404(CycleCount, pk=pk)
    try:
        changed = cycle_count_approve(count=count, actor=request.user)
    except InventoryError as err:
        messages.error(request, str(err))
    else:
        messages.success(
            request, f"Approved: {changed} stock row{'s' if changed != 1 else ''} corrected."
        )
    return redirect("inventory:staff-count", count.pk)


@staff_required("inventory.view_webhookdelivery")
def channels(request: HttpRequest) -> HttpResponse:
    """Sales channels and the log of webhook deliveries to them."""
    deliveries = WebhookDelivery.objects.select_related("channel")
    if request.GET.get("status") in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=request.GET["status"])
    context = {
        "channels": list(SalesChannel.objects.all()),
        "page": Paginator(deliveries.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
    }
    return render(request, "inventory/staff/channels.html", context)


@staff_required("inventory.change_stocklevel")
@require_POST
def stock_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkAdjustForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = stock_adjust_bulk(
                stock_ids=[level.pk for level in data["stock"]],
                delta=data["delta"],
                reason=data["reason"],
                note=data["note"],
                actor=request.user,
            )
        except InventoryError as err:
            messages.error(request, f"Nothing was changed. {err}")
        else:
            messages.success(request, f"{changed} stock rows changed; each is in the ledger.")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(f"{reverse('inventory:staff-stock')}?{request.POST.get('filters', '')}")
