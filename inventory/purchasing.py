"""Suppliers' purchase orders: a state machine with a timeline, and receiving into stock.

draft -> sent -> partially received -> received
  \\-> cancelled   \\-> cancelled       \\-> cancelled (what arrived stays)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from catalog.models import Variant
from catalog.services import variant_cost_set
from config.mail import send_templated_email
from inventory.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    StockAlert,
    StockLevel,
    Supplier,
    SupplierItem,
    Warehouse,
)
from inventory.services import InventoryError, lock_stock, stock_adjust

Status = PurchaseOrder.Status
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.SENT, Status.CANCELLED},
    Status.SENT: {Status.PARTIALLY_RECEIVED, Status.RECEIVED, Status.CANCELLED},
    Status.PARTIALLY_RECEIVED: {Status.PARTIALLY_RECEIVED, Status.RECEIVED, Status.CANCELLED},
    Status.RECEIVED: set(),
    Status.CANCELLED: set(),
}


class IllegalTransition(InventoryError):
    """A status change the purchase order's state machine does not allow."""


class OverReceipt(InventoryError):
    """More would arrive than was ordered; the caller asks the person to confirm."""


@transaction.atomic
def purchase_order_create(
    *, supplier: Supplier, warehouse: Warehouse, lines: dict[int, int], actor=None, expected_on=None
) -> PurchaseOrder:
    """A draft order of {variant id: quantity}, priced from the supplier's items."""
    if not lines or any(quantity <= 0 for quantity in lines.values()):
        raise InventoryError("Order at least one unit of each line.")
    costs = dict(supplier.items.filter(variant_id__in=lines).values_list("variant_id", "unit_cost"))
    missing = [variant_id for variant_id in lines if variant_id not in costs]
    if missing:
        skus = ", ".join(Variant.objects.filter(pk__in=missing).values_list("sku", flat=True))
        raise InventoryError(f"{supplier.name} does not sell: {skus}.")
    order = PurchaseOrder.objects.create(
        number="pending",
        supplier=supplier,
        warehouse=warehouse,
        currency=supplier.currency,
        expected_on=expected_on,
        created_by=actor,
    )
    order.number = f"PO-{order.pk:05d}"  # from the primary key: unique without a race
    order.save(update_fields=["number"])
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            purchase_order=order,
            variant_id=variant_id,
            quantity_ordered=qty,
            unit_cost=costs[variant_id],
        )
        for variant_id, qty in lines.items()
    )
    PurchaseOrderEvent.objects.create(purchase_order=order, to_status=order.status, actor=actor)
    return order


@transaction.atomic
def purchase_order_transition(
    *, order: PurchaseOrder, to: str, actor=None, note: str = ""
) -> PurchaseOrder:
    """Move the order to `to`, if its state machine allows; the timeline gets a row."""
    locked = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if to not in TRANSITIONS[locked.status]:
        raise IllegalTransition(
            f"A {locked.get_status_display().lower()} order cannot become "
            f"{Status(to).label.lower()}."
        )
    PurchaseOrderEvent.objects.create(
        purchase_order=locked, from_status=locked.status, to_status=to, actor=actor, note=note
    )
    locked.status = to
    locked.save(update_fields=["status"])
    order.status = to
    return locked


@transaction.atomic
def purchase_order_receive(
    *, order: PurchaseOrder, quantities: dict[int, int], actor=None, confirm_over: bool = False
) -> PurchaseOrder:
    """Receive {line id: quantity} into the order's warehouse.

    Each receipt is a ledger row and moves the variant's cost to the weighted average of
    what was on hand and what arrived. More than ordered raises OverReceipt unless
    `confirm_over`. The order becomes partially received or received.
    """
    # Stock rows first, as in every stock change, then the order: no deadlock with an
    # allocation, and two receipts of one variant take turns for the average cost.
    lock_stock(order.lines.values_list("variant_id", flat=True))
    locked = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status not in (Status.SENT, Status.PARTIALLY_RECEIVED):
        raise IllegalTransition(
            f"Only a sent order can be received; this one is {locked.get_status_display().lower()}."
        )
    lines = {line.pk: line for line in locked.lines.select_for_update().order_by("pk")}
    unknown = set(quantities) - set(lines)
    if unknown or any(quantity < 0 for quantity in quantities.values()):
        raise InventoryError("Those lines are not on this order.")
    over = [
        lines[pk]
        for pk, quantity in quantities.items()
        if lines[pk].quantity_received + quantity > lines[pk].quantity_ordered
    ]
    if over and not confirm_over:
        raise OverReceipt(
            "More than ordered would arrive for "
            + ", ".join(str(line.variant_id) for line in over)
            + ". Confirm to receive it anyway."
        )
    currencies = dict(
        Variant.objects.filter(pk__in=[line.variant_id for line in lines.values()]).values_list(
            "pk", "currency"
        )
    )
    foreign = [line for line in lines.values() if currencies[line.variant_id] != locked.currency]
    if foreign:
        raise InventoryError(
            f"This order is in {locked.currency} but the products are priced in "
            f"{currencies[foreign[0].variant_id]}: costs cannot be averaged across currencies."
        )
    for pk, quantity in sorted(quantities.items()):
        if quantity == 0:
            continue
        line = lines[pk]
        _average_cost(line.variant_id, quantity, line.unit_cost)
        stock_adjust(
            variant_id=line.variant_id,
            warehouse=locked.warehouse,
            delta=quantity,
            reason="receipt",
            reference=f"purchase_order:{locked.number}",
            actor=actor,
        )
        line.quantity_received = F("quantity_received") + quantity
        line.save(update_fields=["quantity_received"])
    done = all(
        line.quantity_received >= line.quantity_ordered
        for line in PurchaseOrderLine.objects.filter(purchase_order=locked)
    )
    return purchase_order_transition(
        order=locked, to=Status.RECEIVED if done else Status.PARTIALLY_RECEIVED, actor=actor
    )


def _average_cost(variant_id: int, quantity: int, unit_cost: Decimal) -> None:
    variant = Variant.objects.get(pk=variant_id)
    on_hand = (
        StockLevel.objects.filter(variant_id=variant_id).aggregate(total=Sum("on_hand"))["total"]
        or 0
    )
    if variant.cost is None or on_hand <= 0:
        variant_cost_set(variant_id=variant_id, cost=unit_cost)
        return
    average = (variant.cost * on_hand + unit_cost * quantity) / (on_hand + quantity)
    variant_cost_set(variant_id=variant_id, cost=average)


def on_order(*, variant_ids: list[int]) -> dict[int, int]:
    """Units ordered from suppliers and not yet received, per variant (sent orders)."""
    totals: dict[int, int] = {}
    for (variant_id, _), units in on_order_by_warehouse(variant_ids=variant_ids).items():
        totals[variant_id] = totals.get(variant_id, 0) + units
    return totals


def on_order_by_warehouse(*, variant_ids: list[int]) -> dict[tuple[int, int], int]:
    """The same per (variant, warehouse): an order arrives in one warehouse only."""
    open_lines = PurchaseOrderLine.objects.filter(
        variant_id__in=variant_ids,
        purchase_order__status__in=(Status.SENT, Status.PARTIALLY_RECEIVED),
    )
    rows = open_lines.values("variant_id", "purchase_order__warehouse_id").annotate(
        units=Sum(F("quantity_ordered") - F("quantity_received"))
    )
    return {
        (row["variant_id"], row["purchase_order__warehouse_id"]): max(row["units"], 0)
        for row in rows
    }


@transaction.atomic
def purchase_order_send(*, order: PurchaseOrder, actor=None) -> PurchaseOrder:
    """Mark the order sent and email it to the supplier once the change is committed."""
    if not order.supplier.email:
        raise InventoryError(f"Add an email address for {order.supplier.name} first.")
    sent = purchase_order_transition(order=order, to=Status.SENT, actor=actor)

    def email() -> None:
        from inventory.tasks import purchase_order_email_task  # the task module imports this

        purchase_order_email_task.delay(sent.pk)

    transaction.on_commit(email)
    return sent


def purchase_order_email(*, order_id: int) -> bool:
    """Send the order to its supplier as HTML (and text); False if it is no longer sent."""
    order = (
        PurchaseOrder.objects.select_related("supplier", "warehouse")
        .prefetch_related("lines__variant__product")
        .filter(pk=order_id, status=Status.SENT)
        .first()
    )
    if order is None:
        return False
    send_templated_email(
        template="purchase_order",
        to=[order.supplier.email],
        context={"order": order, "lines": list(order.lines.all())},
    )
    return True


OPEN_STATUSES = (Status.DRAFT, Status.SENT, Status.PARTIALLY_RECEIVED)


@dataclass
class Reorder:
    """What a press of "reorder" did with the alerts it was given."""

    drafted: list[PurchaseOrder] = field(default_factory=list)  # made, or lines added
    covered: list[StockAlert] = field(default_factory=list)  # already on an open order
    skipped: list[StockAlert] = field(default_factory=list)  # no preferred supplier


@transaction.atomic
def purchase_orders_from_alerts(*, alerts: list[StockAlert], actor=None) -> Reorder:
    """Draft purchase orders for open alerts, one per preferred supplier and warehouse,
    with the suggested quantities.

    Idempotent: an alert already on an open purchase order (drafted by an earlier reorder,
    not cancelled) is left alone, and new alerts join the draft an earlier reorder made for
    the same supplier and warehouse (a line there is raised to the suggestion, never
    lowered) instead of starting a second one. The alerts, then the suppliers, are locked
    in pk order, so two presses at once take turns and the second finds the first's work.
    """
    result = Reorder()
    ids = [alert.pk for alert in alerts]
    _lock_rows(StockAlert, ids)
    fresh = list(
        StockAlert.objects.filter(pk__in=ids, resolved_at__isnull=True)
        .select_related("stock", "purchase_order")
        .order_by("pk")
    )
    preferred = {
        item.variant_id: item
        for item in SupplierItem.objects.filter(
            variant_id__in=[alert.stock.variant_id for alert in fresh], is_preferred=True
        ).select_related("supplier")
    }
    groups: dict[tuple[int, int], list[StockAlert]] = {}
    for alert in fresh:
        item = preferred.get(alert.stock.variant_id)
        if alert.purchase_order and alert.purchase_order.status in OPEN_STATUSES:
            result.covered.append(alert)
        elif item is None or alert.suggested_quantity <= 0:
            result.skipped.append(alert)
        else:
            groups.setdefault((item.supplier_id, alert.stock.warehouse_id), []).append(alert)
    supplier_ids = sorted({supplier_id for supplier_id, _ in groups})
    _lock_rows(Supplier, supplier_ids)
    suppliers = Supplier.objects.in_bulk(supplier_ids)
    warehouses = Warehouse.objects.in_bulk([warehouse_id for _, warehouse_id in groups])
    for (supplier_id, warehouse_id), members in sorted(groups.items()):
        lines: dict[int, int] = {}
        for alert in members:
            variant_id = alert.stock.variant_id
            lines[variant_id] = lines.get(variant_id, 0) + alert.suggested_quantity
        supplier = suppliers[supplier_id]
        # Locked (and its status re-checked under the lock): a draft being sent meanwhile
        # is not changed after the supplier got it.
        draft = (
            PurchaseOrder.objects.select_for_update()
            .filter(
                Exists(StockAlert.objects.filter(purchase_order=OuterRef("pk"))),
                status=Status.DRAFT,
                supplier=supplier,
                warehouse_id=warehouse_id,
            )
            .order_by("-pk")
            .first()
        )
        if draft is None:
            draft = purchase_order_create(
                supplier=supplier,
                warehouse=warehouses[warehouse_id],
                lines=lines,
                actor=actor,
                expected_on=timezone.localdate() + timedelta(days=supplier.lead_time_days),
            )
        else:
            _draft_raise(draft, lines)
        StockAlert.objects.filter(pk__in=[alert.pk for alert in members]).update(
            purchase_order=draft
        )
        result.drafted.append(draft)
    return result


def _lock_rows(model: type, pks: list[int]) -> None:
    list(model.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk"))


def _draft_raise(order: PurchaseOrder, lines: dict[int, int]) -> None:
    """Add the missing lines to a draft, and raise those below what is wanted now."""
    existing = {line.variant_id: line for line in order.lines.select_for_update()}
    costs = dict(
        order.supplier.items.filter(variant_id__in=lines).values_list("variant_id", "unit_cost")
    )
    for variant_id, quantity in lines.items():
        line = existing.get(variant_id)
        if line is None:
            PurchaseOrderLine.objects.create(
                purchase_order=order,
                variant_id=variant_id,
                quantity_ordered=quantity,
                unit_cost=costs[variant_id],
            )
        elif line.quantity_ordered < quantity:
            line.quantity_ordered = quantity
            line.save(update_fields=["quantity_ordered"])


@transaction.atomic
def supplier_save(*, supplier: Supplier) -> Supplier:
    supplier.name = supplier.name.strip()
    if not supplier.name:
        raise InventoryError("A supplier needs a name.")
    supplier.save()
    return supplier


@transaction.atomic
def supplier_item_save(
    *,
    supplier: Supplier,
    sku: str,
    unit_cost: Decimal,
    supplier_sku: str = "",
    preferred: bool = False,
) -> SupplierItem:
    """Add or update what `supplier` sells us, found by our SKU. Making it preferred takes
    that place from any other supplier of the variant (reordering follows the preferred)."""
    variant = Variant.objects.filter(sku__iexact=sku.strip()).first()
    if variant is None:
        raise InventoryError(f"No variant has the SKU {sku.strip()!r}.")
    if unit_cost < 0:
        raise InventoryError("A cost cannot be negative.")
    if preferred:
        SupplierItem.objects.filter(variant=variant, is_preferred=True).exclude(
            supplier=supplier
        ).update(is_preferred=False)
    item, _ = SupplierItem.objects.update_or_create(
        supplier=supplier,
        variant=variant,
        defaults={
            "unit_cost": unit_cost,
            "supplier_sku": supplier_sku.strip(),
            "is_preferred": preferred,
        },
    )
    return item


@transaction.atomic
def supplier_item_remove(*, item: SupplierItem) -> None:
    item.delete()
