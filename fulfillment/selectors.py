"""Reads for fulfillment that views, tasks, commands and reports share."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fulfillment.carriers import ship_by
from fulfillment.models import ReturnRequest, Shipment, ShipmentLine
from inventory.models import Allocation, Warehouse
from orders.models import Order, OrderLine

PREFIX = "order:"
QUEUE_STATUSES = (Order.Status.PAID, Order.Status.PARTIALLY_FULFILLED, Order.Status.ON_HOLD)


# --- The queue -------------------------------------------------------------------------------


@dataclass
class QueueRow:
    order: Order
    units: int
    ship_by: datetime.date
    today: datetime.date

    @property
    def held(self) -> bool:
        return self.order.status == Order.Status.ON_HOLD

    @property
    def late(self) -> bool:
        return self.ship_by < self.today

    @property
    def due_today(self) -> bool:
        return self.ship_by <= self.today


def fulfillment_queue(
    *, warehouse: Warehouse, today: datetime.date | None = None
) -> list[QueueRow]:
    """Paid orders with units still allocated in `warehouse`, oldest payment first. Held
    orders are listed (flagged, not shippable) so nobody wonders where they went."""
    today = today or timezone.localdate()
    units = dict(
        Allocation.objects.filter(stock__warehouse=warehouse, reference__startswith=PREFIX)
        .values("reference")
        .annotate(units=Sum("quantity"))
        .values_list("reference", "units")
    )
    numbers = [reference.removeprefix(PREFIX) for reference in units]
    orders = (
        Order.objects.filter(number__in=numbers, paid_at__isnull=False, status__in=QUEUE_STATUSES)
        .exclude(fulfillment_status=Order.FulfillmentStatus.FULFILLED)
        .select_related("shipping_method")
        .order_by("paid_at", "pk")
    )
    return [
        QueueRow(
            order=order,
            units=units[PREFIX + order.number],
            ship_by=ship_by(order.paid_at),
            today=today,
        )
        for order in orders
    ]


# --- Pick lists ------------------------------------------------------------------------------


@dataclass
class PickRow:
    sku: str
    title: str
    bin_location: str
    quantity: int = 0
    orders: list[tuple[str, int]] = field(default_factory=list)


def pick_list(*, warehouse: Warehouse, numbers: list[str]) -> tuple[list[Order], list[PickRow]]:
    """What to take off the shelves for these orders (held ones left out): one row per
    SKU with the total and the split by order, in bin order, so a picker walks the
    warehouse once."""
    orders = list(
        Order.objects.filter(
            number__in=numbers,
            paid_at__isnull=False,
            status__in=(Order.Status.PAID, Order.Status.PARTIALLY_FULFILLED),
        ).order_by("paid_at", "pk")
    )
    references = [PREFIX + order.number for order in orders]
    allocations = (
        Allocation.objects.filter(stock__warehouse=warehouse, reference__in=references)
        .select_related("stock__variant__product")
        .order_by("pk")
    )
    rows: dict[int, PickRow] = {}
    for allocation in allocations:
        level = allocation.stock
        row = rows.get(level.pk)
        if row is None:
            variant = level.variant
            title = variant.product.title + (f" — {variant.title}" if variant.title else "")
            row = rows[level.pk] = PickRow(
                sku=variant.sku, title=title, bin_location=level.bin_location
            )
        row.quantity += allocation.quantity
        row.orders.append((allocation.reference.removeprefix(PREFIX), allocation.quantity))
    ordered = sorted(
        rows.values(), key=lambda row: (row.bin_location == "", row.bin_location, row.sku)
    )
    return orders, ordered


# --- Packing ---------------------------------------------------------------------------------


@dataclass
class PackRow:
    line: OrderLine
    barcode: str
    # Units of this line that may go into this parcel, and those scanned into it so far.
    packable: int
    packed: int

    @property
    def done(self) -> bool:
        return self.packed >= self.packable


def packable_lines(
    *, order: Order, warehouse: Warehouse, shipment: Shipment | None = None
) -> list[PackRow]:
    """The order's lines that can be packed here: units not yet shipped, refunded or in
    another parcel being packed, and (for stocked items) allocated in this warehouse."""
    allocated = dict(
        Allocation.objects.filter(reference=PREFIX + order.number, stock__warehouse=warehouse)
        .values("stock__variant_id")
        .annotate(units=Sum("quantity"))
        .values_list("stock__variant_id", "units")
    )
    packing = ShipmentLine.objects.filter(
        shipment__order=order,
        shipment__status=Shipment.Status.READY,
        shipment__return_request__isnull=True,
        order_line__isnull=False,
    )
    here: dict[int, int] = {}
    elsewhere: dict[int, int] = {}
    for line_id, shipment_id, quantity in packing.values_list(
        "order_line_id", "shipment_id", "quantity"
    ):
        bucket = here if shipment is not None and shipment_id == shipment.pk else elsewhere
        bucket[line_id] = bucket.get(line_id, 0) + quantity
    rows = []
    for line in order.lines.select_related("variant").order_by("pk"):
        open_units = line.quantity - line.quantity_fulfilled - line.quantity_refunded
        open_units -= elsewhere.get(line.pk, 0)
        variant = line.variant
        if variant is not None and variant.track_inventory:
            open_units = min(open_units, allocated.get(variant.pk, 0))
        if open_units <= 0 and not here.get(line.pk):
            continue
        rows.append(
            PackRow(
                line=line,
                barcode=variant.barcode if variant else "",
                packable=max(open_units, 0),
                packed=here.get(line.pk, 0),
            )
        )
    return rows


def open_pack(*, order: Order, warehouse: Warehouse) -> Shipment | None:
    return Shipment.objects.filter(
        order=order, warehouse=warehouse, status=Shipment.Status.READY, return_request__isnull=True
    ).first()


# --- Shipments and returns -------------------------------------------------------------------


def shipments_for_staff(*, status: str = "") -> object:
    shipments = Shipment.objects.select_related(
        "order", "warehouse", "service__carrier", "return_request"
    ).prefetch_related("lines")
    if status:
        shipments = shipments.filter(status=status)
    return shipments.order_by("-created_at", "-pk")


def shipment_for_page(pk: int) -> Shipment:
    return get_object_or_404(
        Shipment.objects.select_related(
            "order__shipping_method__zone", "warehouse", "service__carrier", "return_request"
        ).prefetch_related("lines", "events__actor"),
        pk=pk,
    )


def returns_for_staff(*, status: str = "") -> object:
    returns = ReturnRequest.objects.select_related("order").prefetch_related("lines")
    if status:
        returns = returns.filter(status=status)
    return returns.order_by("-created_at", "-pk")


def return_for_page(pk: int) -> ReturnRequest:
    return get_object_or_404(_return_page_queryset(), pk=pk)


def _return_page_queryset() -> object:
    return ReturnRequest.objects.select_related("order", "refund").prefetch_related(
        Prefetch("lines", queryset=_return_lines()),
        "events__actor",
        "replacements__service__carrier",
    )


def _return_lines() -> object:
    from fulfillment.models import ReturnLine

    return ReturnLine.objects.select_related(
        "order_line__variant__product", "exchange_variant"
    ).order_by("pk")


def return_get_for_user_or_404(*, user, pk: int) -> ReturnRequest:
    """A signed-in shopper's own return; 404 for anyone else's."""
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(
        _return_page_queryset().filter(Q(order__customer__user=user) | Q(order__user=user)), pk=pk
    )


def return_get_for_order_or_404(*, order: Order, pk: int) -> ReturnRequest:
    """A return of the order a guest's signed status link opened; 404 for any other."""
    return get_object_or_404(_return_page_queryset(), pk=pk, order=order)
