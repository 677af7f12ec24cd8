from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.alerts import stock_alerts_check
from inventory.models import (
    PurchaseOrder,
    StockAlert,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierItem,
)
from inventory.purchasing import (
    IllegalTransition,
    OverReceipt,
    on_order,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_transition,
    purchase_orders_from_alerts,
)
from inventory.services import InventoryError
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db
Status = PurchaseOrder.Status


@pytest.fixture
def setup():
    supplier = Supplier.objects.create(name="Forge & Field", lead_time_days=10)
    variant = VariantFactory(sku="PAN-1", cost=Decimal("10.00"))
    SupplierItem.objects.create(
        supplier=supplier, variant=variant, unit_cost=Decimal("16.00"), is_preferred=True
    )
    return supplier, variant, WarehouseFactory(code="main")


def sent_order(setup, quantity=10):
    supplier, variant, warehouse = setup
    order = purchase_order_create(
        supplier=supplier, warehouse=warehouse, lines={variant.pk: quantity}
    )
    purchase_order_transition(order=order, to=Status.SENT)
    return order


def test_a_draft_is_priced_from_the_supplier_and_numbered(setup):
    supplier, variant, warehouse = setup
    order = purchase_order_create(supplier=supplier, warehouse=warehouse, lines={variant.pk: 4})
    assert order.number == f"PO-{order.pk:05d}"
    assert order.status == Status.DRAFT
    line = order.lines.get()
    assert (line.quantity_ordered, line.unit_cost) == (4, Decimal("16.00"))


def test_a_variant_the_supplier_does_not_sell_is_refused(setup):
    supplier, _, warehouse = setup
    other = VariantFactory(sku="NOPE-1")
    with pytest.raises(InventoryError, match="does not sell: NOPE-1"):
        purchase_order_create(supplier=supplier, warehouse=warehouse, lines={other.pk: 1})
    assert not PurchaseOrder.objects.exists()


def test_the_state_machine_refuses_illegal_moves_and_keeps_a_timeline(setup):
    order = sent_order(setup)
    with pytest.raises(IllegalTransition, match="A sent order cannot become draft"):
        purchase_order_transition(order=order, to=Status.DRAFT)
    purchase_order_transition(order=order, to=Status.CANCELLED, note="Supplier out of stock")
    with pytest.raises(IllegalTransition):
        purchase_order_transition(order=order, to=Status.SENT)
    timeline = list(order.events.values_list("from_status", "to_status"))
    assert timeline == [("", "draft"), ("draft", "sent"), ("sent", "cancelled")]


def test_receiving_in_parts_writes_receipts_and_moves_the_status(setup):
    _, variant, warehouse = setup
    order = sent_order(setup, quantity=10)
    line = order.lines.get()
    purchase_order_receive(order=order, quantities={line.pk: 4})
    order.refresh_from_db()
    assert order.status == Status.PARTIALLY_RECEIVED
    purchase_order_receive(order=order, quantities={line.pk: 6})
    order.refresh_from_db()
    assert order.status == Status.RECEIVED
    level = StockLevel.objects.get(variant=variant, warehouse=warehouse)
    assert level.on_hand == 10
    receipts = StockMovement.objects.filter(
        reason="receipt", reference=f"purchase_order:{order.number}"
    )
    assert sorted(receipts.values_list("delta", flat=True)) == [4, 6]


def test_receiving_more_than_ordered_asks_for_confirmation(setup):
    order = sent_order(setup, quantity=2)
    line = order.lines.get()
    with pytest.raises(OverReceipt, match="Confirm"):
        purchase_order_receive(order=order, quantities={line.pk: 3})
    assert not StockMovement.objects.exists()
    purchase_order_receive(order=order, quantities={line.pk: 3}, confirm_over=True)
    line.refresh_from_db()
    assert line.quantity_received == 3


def test_a_draft_cannot_be_received(setup):
    supplier, variant, warehouse = setup
    order = purchase_order_create(supplier=supplier, warehouse=warehouse, lines={variant.pk: 1})
    with pytest.raises(IllegalTransition, match="Only a sent order"):
        purchase_order_receive(order=order, quantities={order.lines.get().pk: 1})


def test_receipts_move_the_cost_to_the_weighted_average(setup):
    _, variant, warehouse = setup
    stock(variant, warehouse, 10)  # 10 on hand at cost 10.00
    order = sent_order(setup, quantity=10)  # 10 arriving at 16.00
    purchase_order_receive(order=order, quantities={order.lines.get().pk: 10})
    variant.refresh_from_db()
    assert variant.cost == Decimal("13.00")


def test_on_order_counts_sent_orders_not_yet_received(setup):
    _, variant, _ = setup
    order = sent_order(setup, quantity=10)
    purchase_order_receive(order=order, quantities={order.lines.get().pk: 3})
    assert on_order(variant_ids=[variant.pk]) == {variant.pk: 7}


def test_the_reorder_suggestion_uses_the_supplier_lead_time_and_what_is_on_order(setup):
    _, variant, warehouse = setup
    level = stock(variant, warehouse, 20)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=5, safety_stock=2)
    from inventory.services import stock_allocate, stock_ship

    stock_allocate(reference="order:1", lines={variant.pk: 17})  # 17 sold in 4 weeks
    stock_ship(reference="order:1")
    StockMovement.objects.filter(reason="sale").update(
        created_at=timezone.now() - timedelta(days=2)
    )
    sent_order(setup, quantity=4)  # 4 already on their way
    stock_alerts_check()
    # 17 / 28 a day x 10 days lead time = 6.07, + 2 safety, - 4 on order, - 3 free = 1.07 -> 2
    assert StockAlert.objects.get().suggested_quantity == 2


# --- Reorder is idempotent ---------------------------------------------------------------------


def low_alert(variant, warehouse, reorder_quantity=20):
    level = stock(variant, warehouse, 1)
    StockLevel.objects.filter(pk=level.pk).update(
        reorder_point=5, reorder_quantity=reorder_quantity
    )
    stock_alerts_check()
    return StockAlert.objects.get(stock=level, resolved_at__isnull=True)


def test_reordering_the_same_alerts_twice_drafts_one_order(setup):
    _, variant, warehouse = setup
    alert = low_alert(variant, warehouse)
    first = purchase_orders_from_alerts(alerts=[alert])
    second = purchase_orders_from_alerts(alerts=[alert])
    [draft] = first.drafted
    assert (second.drafted, second.covered) == ([], [alert])
    assert PurchaseOrder.objects.get() == draft
    assert draft.lines.get().quantity_ordered == 20
    alert.refresh_from_db()
    assert alert.purchase_order == draft


def test_a_new_alert_joins_the_draft_an_earlier_reorder_made(setup):
    supplier, variant, warehouse = setup
    other = VariantFactory(sku="LID-1")
    SupplierItem.objects.create(
        supplier=supplier, variant=other, unit_cost=Decimal("3.00"), is_preferred=True
    )
    first = low_alert(variant, warehouse)
    [draft] = purchase_orders_from_alerts(alerts=[first]).drafted
    second = low_alert(other, warehouse, reorder_quantity=8)
    done = purchase_orders_from_alerts(alerts=[first, second])
    assert (done.drafted, done.covered) == ([draft], [first])
    assert PurchaseOrder.objects.count() == 1
    lines = {
        line.variant.sku: (line.quantity_ordered, line.unit_cost) for line in draft.lines.all()
    }
    assert lines == {"PAN-1": (20, Decimal("16.00")), "LID-1": (8, Decimal("3.00"))}


def test_a_draft_line_is_raised_to_a_bigger_suggestion_never_lowered(setup):
    _, variant, warehouse = setup
    alert = low_alert(variant, warehouse)
    [draft] = purchase_orders_from_alerts(alerts=[alert]).drafted
    for suggested, expected in ((30, 30), (5, 30)):
        StockAlert.objects.filter(pk=alert.pk).update(resolved_at=timezone.now())
        StockLevel.objects.filter(pk=alert.stock_id).update(reorder_quantity=suggested)
        stock_alerts_check()
        alert = StockAlert.objects.get(resolved_at__isnull=True)
        assert purchase_orders_from_alerts(alerts=[alert]).drafted == [draft]
        assert draft.lines.get().quantity_ordered == expected
    assert PurchaseOrder.objects.count() == 1


def test_an_alert_whose_order_was_cancelled_can_be_reordered(setup):
    _, variant, warehouse = setup
    alert = low_alert(variant, warehouse)
    [draft] = purchase_orders_from_alerts(alerts=[alert]).drafted
    purchase_order_transition(order=draft, to=Status.CANCELLED)
    [again] = purchase_orders_from_alerts(alerts=[alert]).drafted
    assert again != draft
    assert again.status == Status.DRAFT


def test_a_new_alert_after_the_reorder_draft_was_sent_gets_a_new_draft(setup):
    supplier, variant, warehouse = setup
    supplier.email = "orders@forge.example"
    supplier.save()
    other = VariantFactory(sku="LID-1")
    SupplierItem.objects.create(
        supplier=supplier, variant=other, unit_cost=Decimal("3.00"), is_preferred=True
    )
    first = low_alert(variant, warehouse)
    [sent] = purchase_orders_from_alerts(alerts=[first]).drafted
    purchase_order_transition(order=sent, to=Status.SENT)
    second = low_alert(other, warehouse)
    [draft] = purchase_orders_from_alerts(alerts=[first, second]).drafted
    assert draft != sent
    assert [line.variant_id for line in sent.lines.all()] == [variant.pk]
    assert [line.variant_id for line in draft.lines.all()] == [other.pk]


def test_what_is_on_order_lowers_the_suggestion_only_for_the_warehouse_it_goes_to(setup):
    _, variant, main = setup
    backup = WarehouseFactory(code="backup", priority=1)
    for warehouse in (main, backup):
        level = stock(variant, warehouse, 1)
        StockLevel.objects.filter(pk=level.pk).update(reorder_point=5, reorder_quantity=20)
    sent_order(setup, quantity=12)  # into main
    stock_alerts_check()
    suggested = {
        alert.stock.warehouse.code: alert.suggested_quantity
        for alert in StockAlert.objects.select_related("stock__warehouse")
    }
    assert suggested == {"main": 8, "backup": 20}
