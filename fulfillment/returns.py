"""Returns and exchanges: the shopper asks, staff decide, the parcel comes back, and the
money goes back (through the orders refund service) or a replacement goes out.

Lock order: the return row first, then the project's order (cart, voucher, order, then
stock rows, then customer): here the order row, then stock rows (inventory services).
Shipping takes the shipment row, then the order, then stock; refunds the order, then
stock; so none of them can deadlock with another.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from catalog.models import Product, Variant
from config.money import money_round
from fulfillment.models import ReturnEvent, ReturnLine, ReturnRequest, Shipment, ShipmentLine
from fulfillment.services import email_on_commit
from inventory.models import Allocation, StockMovement
from inventory.services import InsufficientStock, InventoryError, stock_adjust, stock_allocate
from orders.models import Order, OrderEvent, Refund
from orders.refunds import line_share, refund_create
from orders.services import OrderError, event_add

Status = ReturnRequest.Status
ZERO = Decimal("0.00")


class ReturnError(Exception):
    """A return step that cannot be done as asked; the message says why."""


TRANSITIONS: dict[str, set[str]] = {
    Status.REQUESTED: {Status.APPROVED, Status.REJECTED},
    Status.APPROVED: {Status.RECEIVED},
    Status.RECEIVED: {Status.REFUNDED, Status.EXCHANGED},
    Status.REFUNDED: {Status.RECEIVED},  # only when the refund itself failed
    Status.REJECTED: set(),
    Status.EXCHANGED: set(),
}


def _transition(ret: ReturnRequest, to: str, *, actor=None, message: str = "") -> ReturnRequest:
    current = ret.status
    if to not in TRANSITIONS[current]:
        raise ReturnError(
            f"A return that is {Status(current).label.lower()} cannot become "
            f"{Status(to).label.lower()}."
        )
    ret.status = to
    ret.updated_at = timezone.now()
    ret.save(update_fields=["status", "updated_at"])
    ReturnEvent.objects.create(
        return_request=ret,
        from_status=current,
        to_status=to,
        message=(message or f"{Status(current).label} → {Status(to).label}")[:500],
        actor=actor,
    )
    return ret


def _locked(ret: ReturnRequest) -> ReturnRequest:
    return ReturnRequest.objects.select_for_update().get(pk=ret.pk)


# --- What can be returned --------------------------------------------------------------------


def returnable_units(*, order: Order, now: datetime.datetime | None = None) -> dict[int, dict]:
    """Per order line: {"units": how many may still be returned, "until": last day, or
    "why": the reason none can}. Units shipped, less refunded, less those in returns that
    are not rejected; the window runs RETURN_WINDOW_DAYS from delivery (from shipping when
    the carrier never reported a delivery)."""
    today = timezone.localdate(now or timezone.now())
    # Units of returns still open or exchanged are taken; refunded ones are counted in the
    # line's quantity_refunded once the refund succeeded (a pending one still holds them).
    taken = dict(
        ReturnLine.objects.filter(return_request__order=order)
        .exclude(return_request__status=Status.REJECTED)
        .exclude(
            return_request__status=Status.REFUNDED,
            return_request__refund__status=Refund.Status.SUCCEEDED,
        )
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    arrived: dict[int, datetime.date] = {}
    parcels = ShipmentLine.objects.filter(
        shipment__order=order,
        shipment__return_request__isnull=True,
        shipment__status__in=[
            Shipment.Status.SHIPPED,
            Shipment.Status.IN_TRANSIT,
            Shipment.Status.DELIVERED,
            Shipment.Status.EXCEPTION,
        ],
    ).values_list("order_line_id", "shipment__delivered_at", "shipment__shipped_at")
    for line_id, delivered_at, shipped_at in parcels:
        day = timezone.localdate(delivered_at or shipped_at)
        arrived[line_id] = max(arrived.get(line_id, day), day)
    result = {}
    for line in order.lines.all():
        # Refunds use up the units that never shipped first (as orders.refunds counts
        # them): only refunded units beyond those were shipped ones.
        unshipped = line.quantity - line.quantity_fulfilled
        refunded_shipped = max(line.quantity_refunded - unshipped, 0)
        units = line.quantity_fulfilled - refunded_shipped - taken.get(line.pk, 0)
        if line.pk not in arrived or line.quantity_fulfilled == 0:
            result[line.pk] = {"units": 0, "why": "Not shipped yet."}
            continue
        until = arrived[line.pk] + datetime.timedelta(days=settings.RETURN_WINDOW_DAYS)
        if today > until:
            result[line.pk] = {"units": 0, "why": f"The return window closed on {until:%d %b %Y}."}
        elif units <= 0:
            result[line.pk] = {"units": 0, "why": "Already returned or refunded."}
        else:
            result[line.pk] = {"units": units, "until": until}
    return result


# --- Asking and deciding ---------------------------------------------------------------------


@transaction.atomic
def return_request_create(
    *, order: Order, lines: dict[int, int], reason: str, comment: str = "", user=None
) -> ReturnRequest:
    """The shopper asks to send back {order line id: quantity} for `reason`; the
    instructions go out by email. Refuses lines not on the order, more than may be
    returned, and anything outside the return window, changing nothing."""
    Order.objects.select_for_update().get(pk=order.pk)  # one request at a time per order
    if reason not in ReturnRequest.Reason.values:
        raise ReturnError("Choose a reason for the return.")
    chosen = {int(line_id): int(qty) for line_id, qty in lines.items() if int(qty) > 0}
    if not chosen:
        raise ReturnError("Choose at least one item to return.")
    allowed = returnable_units(order=order)
    by_id = {line.pk: line for line in order.lines.all()}
    for line_id, quantity in chosen.items():
        if line_id not in by_id:
            raise ReturnError("That item is not on this order.")
        left = allowed[line_id]
        if quantity > left["units"]:
            sku = by_id[line_id].sku
            raise ReturnError(
                f"{sku}: {left['why']}"
                if left["units"] == 0
                else f"{sku}: at most {left['units']}."
            )
    ret = ReturnRequest.objects.create(
        order=order,
        reason=reason,
        comment=comment.strip()[:1000],
        requested_by=user if user is not None and user.is_authenticated else None,
        currency=order.currency,
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(return_request=ret, order_line_id=line_id, quantity=quantity)
        for line_id, quantity in chosen.items()
    )
    units = sum(chosen.values())
    ReturnEvent.objects.create(
        return_request=ret,
        to_status=Status.REQUESTED,
        message=f"{units} unit{'s' if units != 1 else ''} requested for return: "
        f"{ret.get_reason_display()}.",
        actor=ret.requested_by,
    )
    event_add(
        order=order,
        kind=OrderEvent.Kind.FULFILLMENT,
        message=f"Return {ret.number} requested: {units} unit{'s' if units != 1 else ''} "
        f"({ret.get_reason_display()}).",
    )
    email_on_commit(f"return:{ret.pk}:requested")
    return ret


@transaction.atomic
def return_decide(
    *, return_request: ReturnRequest, approve: bool, message: str = "", actor=None
) -> ReturnRequest:
    """Staff approve or reject a requested return; the shopper is told, with the message.
    A rejection must say why."""
    message = message.strip()
    if not approve and not message:
        raise ReturnError("Tell the shopper why the return is rejected.")
    ret = _locked(return_request)
    to = Status.APPROVED if approve else Status.REJECTED
    _transition(
        ret, to, actor=actor, message=f"{Status(to).label}" + (f": {message}" if message else ".")
    )
    ret.staff_message = message[:1000]
    ret.save(update_fields=["staff_message"])
    event_add(
        order=ret.order,
        kind=OrderEvent.Kind.FULFILLMENT,
        message=f"Return {ret.number} {Status(to).label.lower()}.",
        actor=actor,
    )
    email_on_commit(f"return:{ret.pk}:{to}")
    return_request.__dict__.update(ret.__dict__)
    return return_request


# --- Receiving -------------------------------------------------------------------------------


@transaction.atomic
def return_receive(
    *,
    return_request: ReturnRequest,
    received: dict[int, tuple[int, str]],
    warehouse,
    actor=None,
) -> ReturnRequest:
    """The parcel is back: per return line {id: (units, "restock" | "damaged")}. Restocked
    units go back on hand (ledger "return"); damaged ones come in and are written off at
    once (ledger "return" then "damage"), so the ledger shows what happened to each."""
    ret = _locked(return_request)
    if ret.status != Status.APPROVED:
        raise ReturnError(
            "Only an approved return can be received; this one is "
            f"{ret.get_status_display().lower()}."
        )
    lines = {line.pk: line for line in ret.lines.select_related("order_line")}
    if not any(units for units, _ in received.values()):
        raise ReturnError("Enter how many units came back.")
    reference = f"return:{ret.number}"
    summary = []
    for line_id, (units, condition) in received.items():
        line = lines.get(int(line_id))
        if line is None:
            raise ReturnError("That line is not part of this return.")
        if not 0 <= units <= line.quantity:
            raise ReturnError(f"{line.order_line.sku}: between 0 and {line.quantity} came back.")
        if units == 0:
            continue
        if condition not in ReturnLine.Condition.values:
            raise ReturnError(f"{line.order_line.sku}: say whether it goes back into stock.")
        variant_id = line.order_line.variant_id
        try:
            if variant_id is not None:
                stock_adjust(
                    variant_id=variant_id,
                    warehouse=warehouse,
                    delta=units,
                    reason=StockMovement.Reason.RETURN,
                    reference=reference,
                    actor=actor,
                )
                if condition == ReturnLine.Condition.DAMAGED:
                    stock_adjust(
                        variant_id=variant_id,
                        warehouse=warehouse,
                        delta=-units,
                        reason=StockMovement.Reason.DAMAGE,
                        reference=reference,
                        note=f"Return {ret.number}: damaged, written off.",
                        actor=actor,
                    )
        except InventoryError as err:
            raise ReturnError(str(err)) from None
        line.quantity_received = units
        line.condition = condition
        line.save(update_fields=["quantity_received", "condition"])
        summary.append(
            f"{units} x {line.order_line.sku} {ReturnLine.Condition(condition).label.lower()}"
        )
    ret.received_at = timezone.now()
    ret.save(update_fields=["received_at"])
    _transition(
        ret,
        Status.RECEIVED,
        actor=actor,
        message=f"Received at {warehouse.code}: " + "; ".join(summary) + ".",
    )
    return_request.__dict__.update(ret.__dict__)
    return return_request


# --- Refund or exchange ----------------------------------------------------------------------


def _claim(return_request: ReturnRequest, to: str, actor, message: str) -> ReturnRequest:
    with transaction.atomic():
        ret = _locked(return_request)
        if ret.status != Status.RECEIVED:
            raise ReturnError(
                "Only a received return can be settled; this one is "
                f"{ret.get_status_display().lower()}."
            )
        _transition(ret, to, actor=actor, message=message)
    return ret


def return_refund(*, return_request: ReturnRequest, actor=None) -> Refund:
    """Refund the units that came back, through the orders refund service (its own stock
    handling off: receiving already put them back or wrote them off). The return is
    claimed as refunded first, so a double click refunds once; a refused refund puts it
    back to received."""
    lines = {
        line.order_line_id: line.quantity_received
        for line in return_request.lines.all()
        if line.quantity_received
    }
    ret = _claim(return_request, Status.REFUNDED, actor, "Refund issued.")
    try:
        refund = refund_create(
            order=ret.order,
            lines=lines,
            restock=False,
            reason=f"Return {ret.number}: {ret.get_reason_display()}",
            actor=actor,
        )
    except Exception as err:
        with transaction.atomic():
            ret = _locked(ret)
            _transition(ret, Status.RECEIVED, actor=actor, message=f"Refund failed: {err}")
        if isinstance(err, OrderError):
            raise ReturnError(str(err)) from None
        raise
    ReturnRequest.objects.filter(pk=ret.pk).update(refund=refund)
    return_request.refresh_from_db()
    return refund


@transaction.atomic
def return_refund_failed(*, refund: Refund) -> ReturnRequest | None:
    """The refund a return was settled with failed after all (the provider's webhook said
    so, after return_refund had returned): the return goes back to received, its units
    free to refund again or exchange. Does nothing for any other refund or return."""
    if refund.status != Refund.Status.FAILED:
        return None
    candidate = (
        ReturnRequest.objects.filter(refund_id=refund.pk, status=Status.REFUNDED)
        .values_list("pk", flat=True)
        .first()
    )
    if candidate is None:
        return None
    ret = ReturnRequest.objects.select_for_update().get(pk=candidate)
    if ret.status != Status.REFUNDED or ret.refund_id != refund.pk:
        return None
    reason = refund.failure_message or "no reason given"
    _transition(ret, Status.RECEIVED, message=f"Refund failed: {reason}"[:500])
    event_add(
        order=ret.order,
        kind=OrderEvent.Kind.FULFILLMENT,
        message=f"Return {ret.number} is back to received: its refund failed ({reason}).",
    )
    return ret


def exchange_choices(line: ReturnLine) -> list[Variant]:
    """Variants a returned line may be exchanged for: the same product's other variants."""
    variant = line.order_line.variant
    if variant is None:
        return []
    return list(
        Variant.objects.filter(product_id=variant.product_id, product__status=Product.Status.ACTIVE)
        .exclude(pk=variant.pk)
        .order_by("position", "pk")
    )


def _replacement_cost(order_line, variant: Variant, units: int) -> Decimal:
    """`units` of `variant` priced as the original line was: its list price scaled by what
    the shopper paid for the line against its list price (the order's discount, and tax
    when prices exclude it), so a same-priced swap costs exactly what was paid."""
    listed = order_line.unit_price * order_line.quantity
    if not listed:
        return money_round(variant.price * units, order_line.order.currency)
    return money_round(
        variant.price * units * order_line.line_total / listed, order_line.order.currency
    )


def return_exchange(
    *, return_request: ReturnRequest, replacements: dict[int, int], actor=None
) -> list[Shipment]:
    """Send another variant for every unit that came back, at no charge: the replacement
    stock is allocated now (held for the parcel), and a parcel is made ready per
    warehouse. A cheaper replacement refunds the difference; a dearer one leaves an
    amount due on the return for staff to collect."""
    with transaction.atomic():
        ret = _locked(return_request)
        # The order row before any stock row (stock_allocate below), as refunds and
        # shipping take them: an exchange and a refund of one order cannot deadlock.
        Order.objects.select_for_update().filter(pk=ret.order_id).first()
        if ret.status != Status.RECEIVED:
            raise ReturnError(
                "Only a received return can be exchanged; this one is "
                f"{ret.get_status_display().lower()}."
            )
        received = [
            line
            for line in ret.lines.select_related("order_line__variant")
            if line.quantity_received
        ]
        wanted: dict[int, int] = {}
        difference = ZERO
        chosen: dict[int, Variant] = {}
        for line in received:
            variant_id = replacements.get(line.pk)
            options = {variant.pk: variant for variant in exchange_choices(line)}
            if variant_id is None or int(variant_id) not in options:
                raise ReturnError(f"{line.order_line.sku}: choose the replacement variant.")
            variant = chosen[line.pk] = options[int(variant_id)]
            if variant.track_inventory:
                wanted[variant.pk] = wanted.get(variant.pk, 0) + line.quantity_received
            difference += _replacement_cost(
                line.order_line, variant, line.quantity_received
            ) - line_share(line.order_line, line.quantity_received, ret.order.currency)
        if not received:
            raise ReturnError("Nothing came back to exchange.")
        reference = f"exchange:{ret.number}"
        try:
            if wanted:
                stock_allocate(reference=reference, lines=wanted)
        except InsufficientStock as err:
            raise ReturnError(f"The replacement is not in stock: {err}") from None
        warehouses = dict(
            Allocation.objects.filter(reference=reference).values_list(
                "stock__variant_id", "stock__warehouse_id"
            )
        )
        from inventory.models import Warehouse

        default_warehouse = Warehouse.objects.filter(is_active=True).order_by("priority").first()
        parcels: dict[int, Shipment] = {}
        for line in received:
            variant = chosen[line.pk]
            warehouse_id = warehouses.get(
                variant.pk, default_warehouse.pk if default_warehouse else None
            )
            parcel = parcels.get(warehouse_id)
            if parcel is None:
                parcel = parcels[warehouse_id] = Shipment.objects.create(
                    order=ret.order,
                    warehouse_id=warehouse_id,
                    return_request=ret,
                    cost=None,
                    currency=ret.currency,
                    created_by=actor,
                )
            ShipmentLine.objects.create(
                shipment=parcel,
                variant=variant,
                sku=variant.sku,
                title=str(variant),
                quantity=line.quantity_received,
            )
            line.exchange_variant = variant
            line.save(update_fields=["exchange_variant"])
        refund_back = -difference if difference < 0 else ZERO
        ret.amount_due = difference if difference > 0 else ZERO
        ret.save(update_fields=["amount_due"])
        note = "Exchanged: replacement allocated and ready to ship"
        if ret.amount_due:
            note += f"; {ret.amount_due} {ret.currency} due from the shopper"
        elif refund_back:
            note += f"; {refund_back} {ret.currency} difference refunded"
        _transition(ret, Status.EXCHANGED, actor=actor, message=note + ".")
        event_add(
            order=ret.order,
            kind=OrderEvent.Kind.FULFILLMENT,
            message=f"Return {ret.number}: " + note + ".",
            actor=actor,
        )
    if refund_back:
        # After the commit: no provider call inside a transaction holding locks.
        refund = refund_create(
            order=ret.order,
            amount=refund_back,
            reason=f"Exchange {ret.number}: price difference",
            actor=actor,
        )
        ReturnRequest.objects.filter(pk=ret.pk).update(refund=refund)
    return_request.refresh_from_db()
    return list(parcels.values())


def returns_open_count() -> int:
    return ReturnRequest.objects.filter(
        Q(status=Status.REQUESTED) | Q(status=Status.APPROVED) | Q(status=Status.RECEIVED)
    ).count()
