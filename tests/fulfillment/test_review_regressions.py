"""Regressions for fulfillment findings of review 2 (moved here from tests/review2 once
fixed), with the tests of the fixes' own edges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _pack_and_ship(order, warehouse, service, scans):
    from fulfillment.services import shipment_scan, shipment_ship

    shipment = None
    for code, quantity in scans:
        shipment = shipment_scan(
            order=order, warehouse=warehouse, code=code, quantity=quantity
        ).shipment
    return shipment_ship(shipment=shipment, service=service, tracking_number="TRK1")


def test_a_unit_refunded_before_shipping_does_not_block_returning_a_shipped_one(
    make_order, warehouse, carrier
):
    from fulfillment.returns import return_request_create, returnable_units
    from orders.refunds import refund_create

    order = make_order()  # 2 x SHIRT-S, 1 x MUG-1, paid
    shirt = order.lines.get(sku="SHIRT-S")
    # Out of one shirt: the shop refunds it before anything ships.
    refund_create(order=order, lines={shirt.pk: 1}, restock=True, reason="out of stock")
    order.refresh_from_db()
    _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1), ("MUG-1", 1)])
    shirt.refresh_from_db()
    assert (shirt.quantity_fulfilled, shirt.quantity_refunded) == (1, 1)

    # The one shirt that arrived can be sent back.
    assert returnable_units(order=order)[shirt.pk]["units"] == 1
    return_request_create(order=order, lines={shirt.pk: 1}, reason="too_small")


def _received_return(order, warehouse, sku="SHIRT-S", quantity=1):
    from fulfillment.models import Shipment
    from fulfillment.returns import return_decide, return_receive, return_request_create

    line = order.lines.get(sku=sku)
    ret = return_request_create(order=order, lines={line.pk: quantity}, reason="too_small")
    return_decide(return_request=ret, approve=True)
    return_receive(
        return_request=ret,
        received={ret.lines.get().pk: (quantity, "restock")},
        warehouse=warehouse,
    )
    assert Shipment.objects.filter(order=order).exists()
    return ret


@pytest.fixture
def delivered(make_order, warehouse, carrier):
    from fulfillment.models import Shipment
    from fulfillment.services import shipment_transition

    order = make_order()
    shipment = _pack_and_ship(
        order, warehouse, carrier.service["standard"], [("SHIRT-S", 2), ("MUG-1", 1)]
    )
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    order.refresh_from_db()
    return order


def test_settling_a_return_with_a_refund_needs_the_refund_permission(
    client, staff_login, roles, delivered, warehouse
):
    from orders.models import Refund
    from tests.factories import StaffFactory

    ret = _received_return(delivered, warehouse)
    packer = StaffFactory(role="Warehouse")
    assert not packer.has_perm("orders.add_refund")
    staff_login(packer)
    response = client.post(
        reverse("fulfillment:staff-return-settle", args=[ret.pk]), {"action": "refund"}
    )
    assert response.status_code == 403
    assert not Refund.objects.exists()


def test_a_return_whose_refund_fails_later_can_be_settled_again(delivered, warehouse):
    from fulfillment.models import ReturnRequest
    from fulfillment.returns import return_refund, returnable_units
    from orders.models import Refund
    from orders.refunds import refund_status_set

    ret = _received_return(delivered, warehouse)
    refund = return_refund(return_request=ret)
    # As a card refund is until Stripe answers: pending, then the webhook says it failed.
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)
    from orders.models import OrderLine

    shirt = delivered.lines.get(sku="SHIRT-S")
    OrderLine.objects.filter(pk=shirt.pk).update(quantity_refunded=0)
    refund_status_set(refund=refund, status=Refund.Status.FAILED, failure_message="expired_card")

    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.RECEIVED  # staff can refund again or exchange
    assert returnable_units(order=delivered)[shirt.pk]["units"] == 1


def test_exchanging_for_a_same_priced_variant_costs_nothing_on_a_discounted_order(
    shelf, method, warehouse
):
    from fulfillment.models import CarrierService, Shipment
    from fulfillment.returns import return_exchange
    from fulfillment.services import shipment_scan, shipment_ship, shipment_transition
    from orders.services import cart_voucher_apply, order_mark_paid, order_place
    from tests.factories import StaffFactory, VariantFactory
    from tests.factories.inventory import stock
    from tests.factories.orders import VoucherFactory, ready_cart

    medium = VariantFactory(
        product=shelf["small"].product, sku="SHIRT-M", title="M", price=Decimal("40.00")
    )
    stock(medium, warehouse, 5)
    cart = ready_cart([(shelf["small"], 1)], method=method)
    cart_voucher_apply(cart=cart, code=VoucherFactory(code="TENOFF").code)
    order = order_place(cart=cart)
    order_mark_paid(order=order, actor=StaffFactory())
    order.refresh_from_db()
    assert order.discount_total > 0

    from fulfillment.models import Carrier

    carrier = Carrier.objects.create(code="c2", name="C2", webhook_token="t")
    service = CarrierService.objects.create(carrier=carrier, code="std", name="Std")
    parcel = shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S").shipment
    parcel = shipment_ship(shipment=parcel, service=service, cost=Decimal("4.00"))
    shipment_transition(shipment=parcel, to=Shipment.Status.DELIVERED)

    ret = _received_return(order, warehouse)
    return_exchange(return_request=ret, replacements={ret.lines.get().pk: medium.pk})
    ret.refresh_from_db()
    assert ret.amount_due == Decimal("0.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_exchange_and_a_refund_of_the_same_order_do_not_deadlock(
    make_order, shelf, warehouse, carrier, monkeypatch
):
    import threading
    import time

    from django.db import connection

    from fulfillment import returns as returns_module
    from fulfillment.models import Shipment
    from fulfillment.returns import return_exchange
    from fulfillment.services import shipment_transition
    from orders.models import Order
    from orders.refunds import refund_create

    order = make_order([(shelf["small"], 1), (shelf["large"], 1)])
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1)])
    shipment_transition(shipment=parcel, to=Shipment.Status.DELIVERED)
    ret = _received_return(order, warehouse)
    large_line = order.lines.get(sku="SHIRT-L")

    real_allocate = returns_module.stock_allocate
    stock_locked = threading.Event()

    def allocate_then_pause(**kwargs):
        result = real_allocate(**kwargs)
        stock_locked.set()
        time.sleep(1.5)  # the refund takes the order row meanwhile
        return result

    monkeypatch.setattr(returns_module, "stock_allocate", allocate_then_pause)
    errors: list[BaseException] = []

    def exchange():
        try:
            return_exchange(
                return_request=ret, replacements={ret.lines.get().pk: shelf["large"].pk}
            )
        except BaseException as err:
            errors.append(err)
        finally:
            connection.close()

    def refund():
        try:
            stock_locked.wait(timeout=30)
            refund_create(
                order=Order.objects.get(pk=order.pk),
                lines={large_line.pk: 1},
                restock=True,
                reason="customer changed their mind",
            )
        except BaseException as err:
            errors.append(err)
        finally:
            connection.close()

    threads = [threading.Thread(target=exchange), threading.Thread(target=refund)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_a_parcel_returned_to_sender_puts_its_units_back(make_order, warehouse, carrier, shelf):
    from fulfillment.models import Shipment
    from fulfillment.services import shipment_transition
    from inventory.models import StockLevel

    before = StockLevel.objects.get(variant=shelf["mug"], warehouse=warehouse).on_hand
    order = make_order([(shelf["mug"], 1)])
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("MUG-1", 1)])
    assert StockLevel.objects.get(variant=shelf["mug"], warehouse=warehouse).on_hand == before - 1

    shipment_transition(shipment=parcel, to=Shipment.Status.RETURNED, message="Refused")

    order.refresh_from_db()
    assert StockLevel.objects.get(variant=shelf["mug"], warehouse=warehouse).on_hand == before
    assert order.lines.get().quantity_fulfilled == 0


# --- The fixes' own edges ------------------------------------------------------------------------


def test_a_unit_refunded_after_shipping_still_cannot_be_returned(make_order, warehouse, carrier):
    from fulfillment.returns import ReturnError, return_request_create, returnable_units
    from orders.refunds import refund_create

    order = make_order()  # 2 x SHIRT-S, 1 x MUG-1
    _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 2), ("MUG-1", 1)])
    shirt = order.lines.get(sku="SHIRT-S")
    refund_create(order=order, lines={shirt.pk: 1}, reason="goodwill")
    assert returnable_units(order=order)[shirt.pk]["units"] == 1
    with pytest.raises(ReturnError, match="at most 1"):
        return_request_create(order=order, lines={shirt.pk: 2}, reason="too_small")
    from fulfillment.models import ReturnRequest

    assert not ReturnRequest.objects.filter(order=order).exists()


def test_settle_by_exchange_needs_no_refund_permission(
    client, staff_login, roles, delivered, warehouse, shelf
):
    from fulfillment.models import ReturnRequest
    from tests.factories import StaffFactory

    ret = _received_return(delivered, warehouse)
    staff_login(StaffFactory(role="Warehouse"))
    response = client.post(
        reverse("fulfillment:staff-return-settle", args=[ret.pk]),
        {"action": "exchange", f"variant_{ret.lines.get().pk}": shelf["large"].pk},
    )
    assert response.status_code in (200, 302)
    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.EXCHANGED


def test_a_failed_refund_not_linked_to_a_refunded_return_changes_no_return(delivered, warehouse):
    from fulfillment.models import ReturnRequest
    from orders.models import Refund
    from orders.refunds import refund_create, refund_status_set

    ret = _received_return(delivered, warehouse)
    other = refund_create(order=delivered, amount=Decimal("1.00"), reason="goodwill")
    Refund.objects.filter(pk=other.pk).update(status=Refund.Status.PENDING)
    refund_status_set(refund=other, status=Refund.Status.FAILED, failure_message="declined")
    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.RECEIVED
    assert ret.events.count() == 3  # requested, approved, received: nothing more


def test_a_return_moved_back_by_a_failed_refund_can_be_refunded_again(delivered, warehouse):
    from fulfillment.models import ReturnRequest
    from fulfillment.returns import return_refund
    from orders.models import OrderLine, Refund
    from orders.refunds import refund_status_set

    ret = _received_return(delivered, warehouse)
    first = return_refund(return_request=ret)
    Refund.objects.filter(pk=first.pk).update(status=Refund.Status.PENDING)
    shirt = delivered.lines.get(sku="SHIRT-S")
    OrderLine.objects.filter(pk=shirt.pk).update(quantity_refunded=0)
    from orders.models import Payment

    Payment.objects.filter(order=delivered).update(amount_refunded=Decimal("0.00"))
    delivered.refresh_from_db()
    delivered.__class__.objects.filter(pk=delivered.pk).update(refunded_total=Decimal("0.00"))
    refund_status_set(refund=first, status=Refund.Status.FAILED, failure_message="expired_card")
    ret.refresh_from_db()
    assert "Refund failed: expired_card" in ret.events.latest("pk").message

    second = return_refund(return_request=ret)
    ret.refresh_from_db()
    assert (ret.status, ret.refund_id) == (ReturnRequest.Status.REFUNDED, second.pk)
    assert second.status == Refund.Status.SUCCEEDED


def test_exchanging_for_a_dearer_variant_on_a_discounted_order_asks_the_discounted_difference(
    shelf, method, warehouse, carrier
):
    from fulfillment.models import Shipment
    from fulfillment.returns import return_exchange
    from fulfillment.services import shipment_transition
    from orders.services import cart_voucher_apply, order_mark_paid, order_place
    from tests.factories import StaffFactory
    from tests.factories.orders import VoucherFactory, ready_cart

    cart = ready_cart([(shelf["small"], 1)], method=method)
    cart_voucher_apply(cart=cart, code=VoucherFactory(code="TENOFF").code)  # 10% off
    order = order_place(cart=cart)
    order_mark_paid(order=order, actor=StaffFactory())
    order.refresh_from_db()
    line = order.lines.get()
    assert line.line_total < line.unit_price  # the discount is on the line
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1)])
    shipment_transition(shipment=parcel, to=Shipment.Status.DELIVERED)

    ret = _received_return(order, warehouse)
    return_exchange(return_request=ret, replacements={ret.lines.get().pk: shelf["large"].pk})
    ret.refresh_from_db()
    # 45.00 list against 40.00 list, both at the line's paid ratio.
    ratio = line.line_total / line.unit_price
    assert ret.amount_due == (Decimal("5.00") * ratio).quantize(Decimal("0.01"))
    assert ret.amount_due > 0


def _movements(variant, reason):
    from inventory.models import StockMovement

    return list(
        StockMovement.objects.filter(stock__variant=variant, reason=reason).values_list(
            "delta", "note"
        )
    )


def test_a_returned_parcel_books_back_as_a_return_and_the_units_can_ship_again(
    make_order, warehouse, carrier, shelf
):
    from fulfillment.models import Shipment
    from fulfillment.services import shipment_transition
    from inventory.models import Allocation, StockMovement
    from orders.models import Order, OrderEvent

    order = make_order([(shelf["mug"], 1)])
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("MUG-1", 1)])
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED

    shipment_transition(shipment=parcel, to=Shipment.Status.RETURNED, message="Refused")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.fulfillment_status == Order.FulfillmentStatus.UNFULFILLED
    assert _movements(shelf["mug"], StockMovement.Reason.RETURN) == [
        (1, f"Shipment {parcel.pk} returned to sender.")
    ]
    # Still owed to the shopper: held for the order again, so it can go out once more.
    assert Allocation.objects.get(reference=f"order:{order.number}").quantity == 1
    assert order.events.filter(kind=OrderEvent.Kind.STATUS, to_status=Order.Status.PAID).exists()
    again = _pack_and_ship(order, warehouse, carrier.service["standard"], [("MUG-1", 1)])
    assert again.status == Shipment.Status.SHIPPED
    order.refresh_from_db()
    assert (order.status, order.lines.get().quantity_fulfilled) == (Order.Status.FULFILLED, 1)


def test_a_parcel_returned_by_the_carriers_webhook_books_back_too(
    make_order, warehouse, carrier, shelf
):
    from fulfillment.models import Shipment
    from fulfillment.services import tracking_update
    from orders.models import Order

    order = make_order()  # 2 shirts and a mug: one parcel with the shirts only
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 2)])
    mug_parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("MUG-1", 1)])
    mug_parcel.tracking_number = "TRK2"
    mug_parcel.save(update_fields=["tracking_number"])
    tracking_update(carrier_id=carrier.pk, tracking_number="TRK1", status=Shipment.Status.RETURNED)
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.RETURNED
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_FULFILLED
    assert order.fulfillment_status == Order.FulfillmentStatus.PARTIAL
    assert order.lines.get(sku="SHIRT-S").quantity_fulfilled == 0
    assert order.lines.get(sku="MUG-1").quantity_fulfilled == 1
    # A repeated webhook changes nothing more.
    tracking_update(carrier_id=carrier.pk, tracking_number="TRK1", status=Shipment.Status.RETURNED)
    from inventory.models import StockMovement

    assert len(_movements(shelf["small"], StockMovement.Reason.RETURN)) == 1


def test_a_returned_exchange_parcel_only_goes_back_on_hand(delivered, warehouse, shelf, carrier):
    from fulfillment.models import ReturnRequest, Shipment
    from fulfillment.returns import return_exchange
    from fulfillment.services import shipment_ship, shipment_transition
    from inventory.models import StockLevel

    ret = _received_return(delivered, warehouse)
    (replacement,) = return_exchange(
        return_request=ret, replacements={ret.lines.get().pk: shelf["large"].pk}
    )
    replacement = shipment_ship(shipment=replacement, service=carrier.service["standard"])
    level = StockLevel.objects.get(variant=shelf["large"], warehouse=warehouse)
    fulfilled = {line.sku: line.quantity_fulfilled for line in delivered.lines.all()}

    shipment_transition(shipment=replacement, to=Shipment.Status.RETURNED)
    after = StockLevel.objects.get(pk=level.pk)
    assert (after.on_hand, after.allocated) == (level.on_hand + 1, level.allocated)
    assert {line.sku: line.quantity_fulfilled for line in delivered.lines.all()} == fulfilled
    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.EXCHANGED
    assert "came back undelivered" in delivered.events.latest("pk").message


def test_order_fulfillment_undo_refuses_more_than_shipped_and_changes_nothing(
    make_order, warehouse, carrier
):
    from orders.models import Order, OrderEvent
    from orders.services import OrderError, order_fulfillment_undo

    order = make_order()
    _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1)])
    shirt, mug = order.lines.get(sku="SHIRT-S"), order.lines.get(sku="MUG-1")
    events = order.events.count()
    with pytest.raises(OrderError, match="SHIRT-S: 1 shipped, cannot take back 2"):
        order_fulfillment_undo(order=order, quantities={shirt.pk: 2})
    with pytest.raises(OrderError, match="MUG-1: 0 shipped"):
        order_fulfillment_undo(order=order, quantities={shirt.pk: 1, mug.pk: 1})
    with pytest.raises(OrderError, match="not on this order"):
        order_fulfillment_undo(order=order, quantities={make_order().lines.first().pk: 1})
    shirt.refresh_from_db()
    order.refresh_from_db()
    assert (shirt.quantity_fulfilled, order.status) == (1, Order.Status.PARTIALLY_FULFILLED)
    assert order.events.count() == events

    order_fulfillment_undo(order=order, quantities={shirt.pk: 1}, message="Back.")
    order.refresh_from_db()
    assert (order.status, order.fulfillment_status) == (
        Order.Status.PAID,
        Order.FulfillmentStatus.UNFULFILLED,
    )
    assert order.events.filter(kind=OrderEvent.Kind.FULFILLMENT, message="Back.").exists()


def test_the_settle_form_offers_a_refund_only_to_staff_who_may_refund():
    from fulfillment.forms import SettleForm

    assert [c for c, _ in SettleForm(choices={}, can_refund=False).fields["action"].choices] == [
        "exchange"
    ]
    assert "refund" in dict(SettleForm(choices={}).fields["action"].choices)
