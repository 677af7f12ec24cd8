"""Writes for shipments: packing, shipping, tracking. Returns are in fulfillment/returns.py.

Lock order: the shipment row first, then the order row, then inventory's stock rows
(stock_ship). Orders lock the order before stock too (cancelling, refunding with restock),
so shipping, refunding and cancelling the same order cannot deadlock each other.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from fulfillment.carriers import backend_for, order_promised_by, zone_for
from fulfillment.models import (
    Carrier,
    CarrierRate,
    CarrierService,
    FulfillmentEmail,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
)
from fulfillment.selectors import packable_lines
from inventory.models import StockMovement, Warehouse
from inventory.services import (
    InsufficientStock,
    InventoryError,
    stock_adjust,
    stock_allocate,
    stock_ship,
)
from orders.models import Order, OrderEvent, OrderLine
from orders.services import (
    OrderError,
    event_add,
    order_fulfillment_record,
    order_fulfillment_undo,
    order_reference,
)

Status = Shipment.Status


class ShipmentError(Exception):
    """A packing or shipping step that cannot be done; the message says why."""


TRANSITIONS: dict[str, set[str]] = {
    Status.READY: {Status.SHIPPED, Status.CANCELLED},
    Status.SHIPPED: {Status.IN_TRANSIT, Status.DELIVERED, Status.EXCEPTION, Status.RETURNED},
    Status.IN_TRANSIT: {Status.DELIVERED, Status.EXCEPTION, Status.RETURNED},
    Status.EXCEPTION: {Status.IN_TRANSIT, Status.DELIVERED, Status.RETURNED},
    Status.DELIVERED: set(),
    Status.RETURNED: set(),
    Status.CANCELLED: set(),
}
# Moves staff make by hand on a parcel that has left; shipping itself is shipment_ship.
TRACKING_MOVES = (Status.IN_TRANSIT, Status.DELIVERED, Status.EXCEPTION, Status.RETURNED)


def email_on_commit(key: str) -> None:
    from fulfillment.tasks import fulfillment_email_task

    transaction.on_commit(lambda: fulfillment_email_task.delay(key))


def _refuse_unshippable(order: Order) -> None:
    if order.status == Order.Status.ON_HOLD:
        raise ShipmentError(
            f"Order {order.number} is on hold: {order.hold_reason or 'see its timeline'}. "
            "It cannot ship until it is released."
        )
    if order.paid_at is None or order.status not in (
        Order.Status.PAID,
        Order.Status.PARTIALLY_FULFILLED,
        Order.Status.FULFILLED,
    ):
        raise ShipmentError(f"Order {order.number} is not paid; only paid orders ship.")


# --- Packing ---------------------------------------------------------------------------------


def _open_pack(order: Order, warehouse: Warehouse, actor) -> Shipment:
    """The parcel being packed for this order here, made on the first scan. Two packers
    scanning at once share it (the unique constraint picks one row)."""
    found = Shipment.objects.filter(
        order=order, warehouse=warehouse, status=Status.READY, return_request__isnull=True
    ).first()
    if found is None:
        try:
            with transaction.atomic():
                found = Shipment.objects.create(
                    order=order, warehouse=warehouse, created_by=actor, currency=order.currency
                )
                ShipmentEvent.objects.create(
                    shipment=found, to_status=Status.READY, message="Packing started.", actor=actor
                )
        except IntegrityError:
            found = Shipment.objects.get(
                order=order, warehouse=warehouse, status=Status.READY, return_request__isnull=True
            )
    return Shipment.objects.select_for_update().get(pk=found.pk)


@transaction.atomic
def shipment_scan(
    *, order: Order, warehouse: Warehouse, code: str, quantity: int = 1, actor=None
) -> ShipmentLine:
    """Pack `quantity` of the item scanned (SKU or barcode) into the order's parcel.
    Refuses an item not on the order, more than is left to pack from this warehouse, and
    an order that cannot ship (held, unpaid)."""
    code = code.strip()
    if not code:
        raise ShipmentError("Scan or type a SKU.")
    if quantity < 1:
        raise ShipmentError("Pack at least one.")
    _refuse_unshippable(order)
    shipment = _open_pack(order, warehouse, actor)
    rows = packable_lines(order=order, warehouse=warehouse, shipment=shipment)
    match = next(
        (
            row
            for row in rows
            if row.line.sku.lower() == code.lower()
            or (row.barcode and row.barcode.lower() == code.lower())
        ),
        None,
    )
    if match is None:
        ordered = order.lines.filter(Q(sku__iexact=code) | Q(variant__barcode__iexact=code)).first()
        if ordered is not None:
            raise ShipmentError(
                f"Nothing of {ordered.sku} is left to pack from {warehouse.code}: it is shipped, "
                "packed already or allocated in another warehouse."
            )
        raise ShipmentError(f"Wrong item: {code} is not in order {order.number}. Put it back.")
    left = match.packable - match.packed
    if quantity > left:
        if left == 0:
            raise ShipmentError(f"All {match.packed} of {match.line.sku} are packed already.")
        raise ShipmentError(f"Only {left} more of {match.line.sku} to pack, not {quantity}.")
    packed, _ = ShipmentLine.objects.get_or_create(
        shipment=shipment,
        order_line=match.line,
        defaults={
            "variant_id": match.line.variant_id,
            "sku": match.line.sku,
            "title": match.line.title,
        },
    )
    packed.quantity += quantity
    packed.save(update_fields=["quantity"])
    return packed


# --- Shipping --------------------------------------------------------------------------------


def _weight(shipment: Shipment, lines: list[ShipmentLine]) -> int:
    total = 0
    for line in lines:
        if line.order_line is not None:
            total += line.order_line.weight_grams * line.quantity
        elif line.variant is not None:
            total += line.variant.weight_grams * line.quantity
    return total


@transaction.atomic
def shipment_ship(
    *,
    shipment: Shipment,
    service: CarrierService,
    tracking_number: str = "",
    weight_grams: int | None = None,
    cost: Decimal | None = None,
    actor=None,
) -> Shipment:
    """Hand the packed parcel to the carrier: the stock leaves (inventory "sale" rows, from
    this warehouse), the order counts the units as shipped and moves to partially fulfilled
    or fulfilled, all in this one transaction; then the shopper gets the tracking link."""
    # Lock the parcel row alone (PostgreSQL refuses FOR UPDATE across the outer joins of
    # the order's optional shipping method), then read what it points at.
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    # The order before any stock row, as orders' own services take them (see the top).
    Order.objects.select_for_update().filter(pk=locked.order_id).first()
    shipment = Shipment.objects.select_related(
        "order__shipping_method__zone", "warehouse", "return_request"
    ).get(pk=shipment.pk)
    if shipment.status != Status.READY:
        raise ShipmentError(f"This parcel is {shipment.get_status_display().lower()} already.")
    if not (service.is_active and service.carrier.is_active):
        raise ShipmentError(f"{service} is not in use.")
    lines = [
        line for line in shipment.lines.select_related("order_line", "variant") if line.quantity > 0
    ]
    if not lines:
        raise ShipmentError("Nothing is packed: scan the items first.")
    order = shipment.order
    _refuse_unshippable(order)
    weight = _weight(shipment, lines) if weight_grams is None else weight_grams
    if cost is None:
        zone = zone_for(order)
        cost = (
            backend_for(service.carrier).quote(service=service, zone=zone, weight_grams=weight)
            if zone
            else None
        )
    tracked = {}
    for line in lines:
        if line.variant is not None and line.variant.track_inventory:
            tracked[line.variant_id] = tracked.get(line.variant_id, 0) + line.quantity
    reference = (
        f"exchange:{shipment.return_request.number}"
        if shipment.return_request_id
        else order_reference(order)
    )
    units = sum(line.quantity for line in lines)
    try:
        if tracked:
            stock_ship(
                reference=reference, quantities=tracked, actor=actor, warehouse=shipment.warehouse
            )
        if shipment.return_request_id is None:
            order_fulfillment_record(
                order=order,
                quantities={line.order_line_id: line.quantity for line in lines},
                actor=actor,
                message=f"Shipment {shipment.pk}: {units} units shipped with {service}"
                + (f", tracking {tracking_number}" if tracking_number else "")
                + ".",
            )
        else:
            event_add(
                order=order,
                kind=OrderEvent.Kind.FULFILLMENT,
                message=f"Exchange replacement ({shipment.return_request.number}): {units} "
                f"units shipped with {service}.",
                actor=actor,
            )
    except (InventoryError, OrderError) as err:
        raise ShipmentError(str(err)) from None
    now = timezone.now()
    shipment.service = service
    shipment.tracking_number = tracking_number.strip()
    shipment.weight_grams = weight
    shipment.cost = cost
    shipment.shipped_at = now
    shipment.promised_by = order_promised_by(order)
    shipment.lines.filter(quantity=0).delete()
    shipment.save(
        update_fields=[
            "service",
            "tracking_number",
            "weight_grams",
            "cost",
            "shipped_at",
            "promised_by",
        ]
    )
    _move(shipment, Status.SHIPPED, actor=actor, message=f"Shipped with {service}.")
    email_on_commit(f"shipment:{shipment.pk}:shipped")
    return shipment


def _move(
    shipment: Shipment, to: str, *, actor=None, source: str = "staff", message: str = ""
) -> Shipment:
    current = shipment.status
    if to not in TRANSITIONS[current]:
        raise ShipmentError(
            f"A parcel that is {Status(current).label.lower()} cannot become "
            f"{Status(to).label.lower()}."
        )
    shipment.status = to
    fields = ["status"]
    if to == Status.DELIVERED:
        shipment.delivered_at = timezone.now()
        fields.append("delivered_at")
    shipment.save(update_fields=fields)
    ShipmentEvent.objects.create(
        shipment=shipment,
        from_status=current,
        to_status=to,
        message=message or f"{Status(current).label} → {Status(to).label}",
        source=source,
        actor=actor,
    )
    return shipment


@transaction.atomic
def shipment_transition(
    *, shipment: Shipment, to: str, actor=None, source: str = "staff", message: str = ""
) -> Shipment:
    """Record what happened to a parcel that left: in transit, delivered, a problem,
    back to sender. Refuses an illegal move; delivery emails the shopper."""
    if to not in TRACKING_MOVES and to != Status.CANCELLED:
        raise ShipmentError("Ship the parcel from the packing screen.")
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    _move(locked, to, actor=actor, source=source, message=message)
    if to == Status.RETURNED:
        _book_back(locked, actor=actor)
    if to == Status.DELIVERED:
        event_add(
            order=locked.order,
            kind=OrderEvent.Kind.FULFILLMENT,
            message=f"Shipment {locked.pk} delivered.",
            actor=actor,
        )
        email_on_commit(f"shipment:{locked.pk}:delivered")
    shipment.__dict__.update(locked.__dict__)
    return shipment


def _book_back(shipment: Shipment, *, actor=None) -> None:
    """A parcel came back to the sender: its units are put back on hand (ledger "return")
    in its warehouse (the first active one if that one closed), the order counts them as
    not shipped again, and those it still owes the shopper are allocated to it again, so
    staff can ship them once more or refund them. An exchange replacement only goes back
    on hand: the order never counted it."""
    # The order before any stock row, as shipping does (see the top).
    order = Order.objects.select_for_update().get(pk=shipment.order_id)
    lines = [
        line for line in shipment.lines.select_related("order_line", "variant") if line.quantity
    ]
    warehouse = shipment.warehouse
    if not warehouse.is_active:
        warehouse = Warehouse.objects.filter(is_active=True).order_by("priority", "pk").first()
    exchange = shipment.return_request_id is not None
    reference = f"exchange:{shipment.return_request.number}" if exchange else order_reference(order)
    units = sum(line.quantity for line in lines)
    note = f"Shipment {shipment.pk} returned to sender."
    try:
        for line in lines:
            if line.variant is None or not line.variant.track_inventory:
                continue
            if warehouse is None:
                raise ShipmentError("No active warehouse can take the returned parcel back.")
            stock_adjust(
                variant_id=line.variant_id,
                warehouse=warehouse,
                delta=line.quantity,
                reason=StockMovement.Reason.RETURN,
                reference=reference,
                note=note,
                actor=actor,
            )
        if exchange:
            event_add(
                order=order,
                kind=OrderEvent.Kind.FULFILLMENT,
                message=f"Exchange replacement ({shipment.return_request.number}) came back "
                f"undelivered: {units} units back in stock.",
                actor=actor,
            )
            return
        shipped = [line for line in lines if line.order_line is not None]
        order_fulfillment_undo(
            order=order,
            quantities={line.order_line_id: line.quantity for line in shipped},
            actor=actor,
            message=f"Shipment {shipment.pk} returned to sender: {units} units back in stock.",
        )
        owed: dict[int, int] = {}
        for line in shipped:
            order_line = OrderLine.objects.get(pk=line.order_line_id)
            variant = line.variant
            if variant is None or not variant.track_inventory:
                continue
            still_owed = (
                order_line.quantity - order_line.quantity_fulfilled - order_line.quantity_refunded
            )
            take = min(line.quantity, max(still_owed, 0))
            if take:
                owed[variant.pk] = owed.get(variant.pk, 0) + take
        if owed:
            try:
                with transaction.atomic():
                    stock_allocate(reference=order_reference(order), lines=owed)
            except InsufficientStock as err:
                event_add(
                    order=order,
                    kind=OrderEvent.Kind.FULFILLMENT,
                    message=f"The units back from shipment {shipment.pk} could not be held "
                    f"for the order again: {err}",
                    actor=actor,
                )
    except (InventoryError, OrderError) as err:
        raise ShipmentError(str(err)) from None


def tracking_update(
    *, carrier_id: int, tracking_number: str, status: str, message: str = ""
) -> Shipment | None:
    """A carrier's tracking news, applied forward only: a late or repeated event that the
    parcel has moved past changes nothing. None when no parcel has this number."""
    shipment = (
        Shipment.objects.filter(
            service__carrier_id=carrier_id, tracking_number=tracking_number.strip()
        )
        .exclude(Q(status=Status.READY) | Q(status=Status.CANCELLED))
        .order_by("-pk")
        .first()
    )
    if shipment is None:
        return None
    if status not in TRANSITIONS[shipment.status]:
        return shipment
    return shipment_transition(
        shipment=shipment, to=status, source="webhook", message=message[:300]
    )


def shipment_delays_notify(*, today=None) -> int:
    """Email shoppers whose parcel passed its promised day undelivered; each parcel once
    (the email's claim row). Safe to run as often as beat likes. Returns parcels found."""
    today = today or timezone.localdate()
    late = Shipment.objects.filter(
        status__in=[Status.SHIPPED, Status.IN_TRANSIT, Status.EXCEPTION],
        promised_by__lt=today,
    ).values_list("pk", flat=True)
    sent = set(
        FulfillmentEmail.objects.filter(
            key__startswith="shipment:", key__endswith=":delayed", sent_at__isnull=False
        ).values_list("key", flat=True)
    )
    keys = [f"shipment:{pk}:delayed" for pk in late]
    keys = [key for key in keys if key not in sent]
    for key in keys:
        email_on_commit(key)
    return len(keys)


# --- Carriers' rate tables -------------------------------------------------------------------


def carrier_rate_save(
    *, service: CarrierService, zone, max_weight_grams: int, price: Decimal
) -> CarrierRate:
    """Set the price of one step of a service's rate table (a step with the same zone and
    weight is replaced, not duplicated)."""
    if max_weight_grams <= 0:
        raise ShipmentError("The weight limit must be above zero.")
    if price < 0:
        raise ShipmentError("A price cannot be negative.")
    rate, _ = CarrierRate.objects.update_or_create(
        service=service,
        zone=zone,
        max_weight_grams=max_weight_grams,
        defaults={"price": price, "currency": settings.STORE_CURRENCY},
    )
    return rate


def carrier_rate_delete(*, rate: CarrierRate) -> None:
    rate.delete()


def carrier_save(*, carrier: Carrier) -> Carrier:
    """Create or update a carrier. Its code is the slug of the tracking webhook URL, so it
    is kept lower case and must not differ from another carrier's by case alone."""
    carrier.code = carrier.code.strip().lower()
    clash = Carrier.objects.filter(code__iexact=carrier.code).exclude(pk=carrier.pk)
    try:
        with transaction.atomic():
            if clash.exists():
                raise IntegrityError
            carrier.save()
    except IntegrityError:  # also a twin created meanwhile by someone else
        raise ShipmentError(f"Another carrier already uses the code “{carrier.code}”.") from None
    return carrier


def carrier_service_save(*, service: CarrierService) -> CarrierService:
    """Create or update one service of a carrier; codes are unique within the carrier,
    without regard to case, and the promised transit runs from min to max days."""
    if service.transit_days_min > service.transit_days_max:
        raise ShipmentError("The shortest transit cannot be longer than the longest.")
    service.code = service.code.strip().lower()
    clash = CarrierService.objects.filter(
        carrier_id=service.carrier_id, code__iexact=service.code
    ).exclude(pk=service.pk)
    try:
        with transaction.atomic():
            if clash.exists():
                raise IntegrityError
            service.save()
    except IntegrityError:
        raise ShipmentError(
            f"{service.carrier.name} already has a service with the code “{service.code}”."
        ) from None
    return service


def carrier_set_active(*, carrier: Carrier, active: bool) -> Carrier:
    """Switch a carrier on or off. Off, none of its services is offered when shipping;
    parcels already sent with it keep their carrier and tracking link (never deleted)."""
    carrier.is_active = active
    carrier.save(update_fields=["is_active"])
    return carrier


def carrier_service_set_active(*, service: CarrierService, active: bool) -> CarrierService:
    """Switch one service on or off; like a carrier, it stays on the parcels it shipped."""
    service.is_active = active
    service.save(update_fields=["is_active"])
    return service
