from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.carriers import proposed, service_options, ship_by
from fulfillment.models import FulfillmentEmail, ReturnRequest, Shipment
from fulfillment.returns import (
    ReturnError,
    return_decide,
    return_exchange,
    return_receive,
    return_refund,
    return_request_create,
)
from fulfillment.selectors import fulfillment_queue, pick_list
from fulfillment.services import (
    ShipmentError,
    shipment_delays_notify,
    shipment_scan,
    shipment_ship,
    shipment_transition,
)
from inventory.models import Allocation, StockLevel, StockMovement
from orders.models import Order, Refund
from orders.services import order_hold
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def level(variant):
    return StockLevel.objects.get(variant=variant)


def pack_and_ship(order, warehouse, service, scans, **kwargs):
    shipment = None
    for code, quantity in scans:
        shipment = shipment_scan(
            order=order, warehouse=warehouse, code=code, quantity=quantity
        ).shipment
    return shipment_ship(shipment=shipment, service=service, tracking_number="TRK1", **kwargs)


def test_shipping_everything_writes_sales_and_fulfils_the_order(
    make_order, warehouse, carrier, shelf, django_capture_on_commit_callbacks
):
    order = make_order()
    with django_capture_on_commit_callbacks(execute=True):
        shipment = pack_and_ship(
            order, warehouse, carrier.service["standard"], [("SHIRT-S", 2), ("MUG-1", 1)]
        )

    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    assert shipment.status == Shipment.Status.SHIPPED
    assert shipment.weight_grams == 2 * 300 + 400
    assert shipment.cost == Decimal("5.00")  # the 2 kg step of the standard service
    assert shipment.tracking_url == "https://track.parcelco.example/TRK1"
    sales = StockMovement.objects.filter(reason="sale", reference=f"order:{order.number}")
    assert sorted(sales.values_list("delta", flat=True)) == [-2, -1]
    assert (level(shelf["small"]).on_hand, level(shelf["small"]).allocated) == (98, 0)
    assert not Allocation.objects.filter(reference=f"order:{order.number}").exists()
    assert [m.subject for m in mail.outbox][-1] == f"Order {order.number} is on its way"
    assert "https://track.parcelco.example/TRK1" in mail.outbox[-1].body


def test_partial_shipment_then_the_rest(make_order, warehouse, carrier, shelf):
    order = make_order()
    pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1)])
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_FULFILLED
    assert level(shelf["small"]).allocated == 1
    assert level(shelf["mug"]).allocated == 1

    pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1), ("MUG-1", 1)])
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.shipments.filter(status="shipped").count() == 2


def test_scanning_a_wrong_item_or_too_many_is_refused(make_order, warehouse, shelf):
    order = make_order()
    with pytest.raises(ShipmentError, match="Wrong item: SHIRT-L is not in order"):
        shipment_scan(order=order, warehouse=warehouse, code="SHIRT-L")
    line = shipment_scan(order=order, warehouse=warehouse, code="400000000001")  # barcode
    assert (line.sku, line.quantity) == ("SHIRT-S", 1)
    shipment_scan(order=order, warehouse=warehouse, code="shirt-s")
    with pytest.raises(ShipmentError, match="All 2 of SHIRT-S are packed already"):
        shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S")
    with pytest.raises(ShipmentError, match="Only 1 more of MUG-1"):
        shipment_scan(order=order, warehouse=warehouse, code="MUG-1", quantity=3)
    line.refresh_from_db()
    assert line.quantity == 2


def test_a_held_order_cannot_be_packed_or_shipped(make_order, warehouse, carrier, shelf):
    order = make_order()
    shipment = shipment_scan(order=order, warehouse=warehouse, code="MUG-1").shipment
    order_hold(order=order, reason="Fraud check")
    with pytest.raises(ShipmentError, match="on hold: Fraud check"):
        shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S")
    with pytest.raises(ShipmentError, match="on hold"):
        shipment_ship(shipment=shipment, service=carrier.service["standard"])
    assert not StockMovement.objects.filter(reason="sale").exists()
    assert level(shelf["mug"]).allocated == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.READY


def test_an_unpaid_order_cannot_be_packed(make_order, warehouse):
    order = make_order(paid=False)
    with pytest.raises(ShipmentError, match="not paid"):
        shipment_scan(order=order, warehouse=warehouse, code="MUG-1")
    assert not Shipment.objects.exists()


def test_shipping_nothing_packed_is_refused(make_order, warehouse, carrier):
    order = make_order()
    line = shipment_scan(order=order, warehouse=warehouse, code="MUG-1")
    line.quantity = 0
    line.save()
    with pytest.raises(ShipmentError, match="Nothing is packed"):
        shipment_ship(shipment=line.shipment, service=carrier.service["standard"])


def test_proposal_is_the_cheapest_service_meeting_the_promise(make_order, carrier):
    order = make_order()
    paid_day = ship_by(order.paid_at)
    options = service_options(order=order, weight_grams=1000, ship_date=paid_day)
    # Promise: ship-by day + 4 days. Economy (6 days) is cheapest but too slow.
    assert [o.service.code for o in options] == ["economy", "standard", "express"]
    assert [o.meets_promise for o in options] == [False, True, True]
    assert proposed(options).service.code == "standard"
    # Shipping three days late: only express still makes it.
    late = service_options(
        order=order, weight_grams=1000, ship_date=paid_day + datetime.timedelta(days=3)
    )
    assert proposed(late).service.code == "express"
    # Heavier parcel: the 10 kg step.
    assert service_options(order=order, weight_grams=5000)[0].cost == Decimal("6.00")
    assert service_options(order=order, weight_grams=20000) == []


def test_cutoff_moves_late_payments_to_the_next_day(settings):
    settings.FULFILLMENT_CUTOFF = "14:00"
    day = datetime.date(2026, 3, 2)
    at = lambda h, m: timezone.make_aware(datetime.datetime.combine(day, datetime.time(h, m)))  # noqa: E731
    assert ship_by(at(13, 59)) == day
    assert ship_by(at(14, 0)) == day
    assert ship_by(at(14, 1)) == day + datetime.timedelta(days=1)


def test_queue_lists_paid_orders_oldest_first_with_held_ones_flagged(make_order, warehouse, shelf):
    first, second, unpaid = make_order(), make_order(), make_order(paid=False)
    order_hold(order=second, reason="Dispute")
    rows = fulfillment_queue(warehouse=warehouse)
    assert [row.order.number for row in rows] == [first.number, second.number]
    assert [row.held for row in rows] == [False, True]
    assert rows[0].units == 3
    assert unpaid.number not in [row.order.number for row in rows]


def test_pick_list_groups_by_sku_in_bin_order_and_leaves_held_orders_out(
    make_order, warehouse, shelf
):
    first = make_order([(shelf["small"], 2), (shelf["mug"], 1)])
    second = make_order([(shelf["small"], 1), (shelf["large"], 1)])
    held = make_order([(shelf["mug"], 4)])
    order_hold(order=held, reason="Fraud check")
    orders, rows = pick_list(
        warehouse=warehouse, numbers=[first.number, second.number, held.number]
    )
    assert [o.number for o in orders] == [first.number, second.number]
    assert [(r.bin_location, r.sku, r.quantity) for r in rows] == [
        ("A-01", "MUG-1", 1),
        ("B-02", "SHIRT-S", 3),
        ("B-03", "SHIRT-L", 1),
    ]
    assert rows[1].orders == [(first.number, 2), (second.number, 1)]


def test_delivery_and_tracking_moves_email_the_shopper_once(
    make_order, warehouse, carrier, django_capture_on_commit_callbacks
):
    order = make_order()
    shipment = pack_and_ship(
        order, warehouse, carrier.service["standard"], [("SHIRT-S", 2), ("MUG-1", 1)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        shipment_transition(shipment=shipment, to=Shipment.Status.IN_TRANSIT)
        shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    assert shipment.delivered_at is not None
    with pytest.raises(ShipmentError, match="delivered cannot become in transit"):
        shipment_transition(shipment=shipment, to=Shipment.Status.IN_TRANSIT)
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count(f"Order {order.number} was delivered") == 1
    assert list(shipment.events.values_list("to_status", flat=True)) == [
        "ready",
        "shipped",
        "in_transit",
        "delivered",
    ]


def test_delay_notice_goes_once_for_late_parcels_only(
    make_order, warehouse, carrier, django_capture_on_commit_callbacks
):
    late = pack_and_ship(make_order(), warehouse, carrier.service["standard"], [("MUG-1", 1)])
    on_time = pack_and_ship(make_order(), warehouse, carrier.service["standard"], [("MUG-1", 1)])
    Shipment.objects.filter(pk=late.pk).update(
        promised_by=timezone.localdate() - datetime.timedelta(days=1)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert shipment_delays_notify() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert shipment_delays_notify() == 0
    assert [m.subject for m in mail.outbox] == [
        f"Your parcel for order {late.order.number} is running late"
    ]
    assert FulfillmentEmail.objects.filter(key=f"shipment:{late.pk}:delayed").exists()
    assert not FulfillmentEmail.objects.filter(key=f"shipment:{on_time.pk}:delayed").exists()


# --- Returns ---------------------------------------------------------------------------------


@pytest.fixture
def delivered(make_order, warehouse, carrier):
    order = make_order()
    shipment = pack_and_ship(
        order, warehouse, carrier.service["standard"], [("SHIRT-S", 2), ("MUG-1", 1)]
    )
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    order.refresh_from_db()
    return order


def request(order, sku="SHIRT-S", quantity=1, reason="too_small"):
    line = order.lines.get(sku=sku)
    return return_request_create(order=order, lines={line.pk: quantity}, reason=reason)


def test_return_request_checks_quantities_and_emails_instructions(
    delivered, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ret = request(delivered, quantity=2)
    assert ret.status == ReturnRequest.Status.REQUESTED
    assert (
        mail.outbox[0].subject
        == f"Return {ret.number} for order {delivered.number}: how to send it back"
    )
    assert f'Write "{ret.number}"' in mail.outbox[0].body
    with pytest.raises(ReturnError, match="Already returned"):
        request(delivered, quantity=1)
    with pytest.raises(ReturnError, match="at most 1"):
        request(delivered, sku="MUG-1", quantity=2)
    with pytest.raises(ReturnError, match="at least one"):
        return_request_create(order=delivered, lines={}, reason="too_small")
    with pytest.raises(ReturnError, match="reason"):
        request(delivered, sku="MUG-1", reason="bored")
    assert ReturnRequest.objects.count() == 1


def test_return_window_closes(delivered, settings):
    settings.RETURN_WINDOW_DAYS = 14
    Shipment.objects.update(delivered_at=timezone.now() - datetime.timedelta(days=15))
    with pytest.raises(ReturnError, match="return window closed"):
        request(delivered)
    assert not ReturnRequest.objects.exists()


def test_unshipped_lines_cannot_be_returned(make_order):
    order = make_order()
    with pytest.raises(ReturnError, match="Not shipped yet"):
        request(order)


def test_rejecting_needs_a_message(delivered, django_capture_on_commit_callbacks):
    ret = request(delivered)
    with pytest.raises(ReturnError, match="why"):
        return_decide(return_request=ret, approve=False, message=" ")
    with django_capture_on_commit_callbacks(execute=True):
        return_decide(return_request=ret, approve=False, message="Worn items cannot be returned.")
    assert ret.status == ReturnRequest.Status.REJECTED
    assert "Worn items" in mail.outbox[-1].body
    # A rejected request frees the units for another request.
    assert request(delivered).status == ReturnRequest.Status.REQUESTED


def test_receive_restocks_or_writes_off_then_refund(delivered, warehouse, shelf):
    staff = StaffFactory()
    ret = request(delivered, quantity=2)
    mug = request(delivered, sku="MUG-1")
    with pytest.raises(ReturnError, match="approved"):
        return_receive(return_request=ret, received={}, warehouse=warehouse)
    return_decide(return_request=ret, approve=True, actor=staff)
    line = ret.lines.get()
    return_receive(
        return_request=ret, received={line.pk: (1, "restock")}, warehouse=warehouse, actor=staff
    )
    assert level(shelf["small"]).on_hand == 98 + 1
    moves = StockMovement.objects.filter(reference=f"return:{ret.number}")
    assert list(moves.values_list("reason", "delta")) == [("return", 1)]

    refund = return_refund(return_request=ret, actor=staff)
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.amount == Decimal("40.00")  # one of the two shirts that came back
    assert ret.status == ReturnRequest.Status.REFUNDED
    assert ret.refund == refund
    assert level(shelf["small"]).on_hand == 99  # the refund did not restock a second time
    with pytest.raises(ReturnError, match="received"):
        return_refund(return_request=ret, actor=staff)
    assert Refund.objects.count() == 1

    return_decide(return_request=mug, approve=True)
    mug_line = mug.lines.get()
    return_receive(return_request=mug, received={mug_line.pk: (1, "damaged")}, warehouse=warehouse)
    damaged = StockMovement.objects.filter(reference=f"return:{mug.number}").order_by("pk")
    assert list(damaged.values_list("reason", "delta")) == [("return", 1), ("damage", -1)]
    assert level(shelf["mug"]).on_hand == 99


def test_receiving_more_than_requested_changes_nothing(delivered, warehouse, shelf):
    ret = request(delivered)
    return_decide(return_request=ret, approve=True)
    with pytest.raises(ReturnError, match="between 0 and 1"):
        return_receive(
            return_request=ret, received={ret.lines.get().pk: (5, "restock")}, warehouse=warehouse
        )
    assert level(shelf["small"]).on_hand == 98
    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.APPROVED


def test_exchange_for_a_dearer_size_allocates_and_ships_at_no_charge(
    delivered, warehouse, carrier, shelf
):
    ret = request(delivered)
    return_decide(return_request=ret, approve=True)
    return_receive(
        return_request=ret, received={ret.lines.get().pk: (1, "restock")}, warehouse=warehouse
    )
    with pytest.raises(ReturnError, match="choose the replacement"):
        return_exchange(return_request=ret, replacements={})
    with pytest.raises(ReturnError, match="choose the replacement"):  # another product
        return_exchange(return_request=ret, replacements={ret.lines.get().pk: shelf["mug"].pk})

    parcels = return_exchange(
        return_request=ret, replacements={ret.lines.get().pk: shelf["large"].pk}
    )
    assert ret.status == ReturnRequest.Status.EXCHANGED
    assert ret.amount_due == Decimal("5.00")  # 45.00 for the L, 40.00 paid for the S
    assert ret.refund is None
    assert level(shelf["large"]).allocated == 1
    (parcel,) = parcels
    assert parcel.return_request == ret
    assert parcel.status == Shipment.Status.READY
    shipment_ship(shipment=parcel, service=carrier.service["standard"], tracking_number="X2")
    assert level(shelf["large"]).on_hand == 9
    assert level(shelf["large"]).allocated == 0
    assert (
        StockMovement.objects.filter(reference=f"exchange:{ret.number}", reason="sale").count() == 1
    )
    delivered.refresh_from_db()
    assert delivered.refunded_total == 0


def test_exchange_for_a_cheaper_variant_refunds_the_difference(
    make_order, warehouse, carrier, shelf
):
    order = make_order([(shelf["large"], 1)])
    shipment = pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-L", 1)])
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    ret = request(order, sku="SHIRT-L")
    return_decide(return_request=ret, approve=True)
    return_receive(
        return_request=ret, received={ret.lines.get().pk: (1, "restock")}, warehouse=warehouse
    )
    return_exchange(return_request=ret, replacements={ret.lines.get().pk: shelf["small"].pk})
    assert ret.refund.amount == Decimal("5.00")
    assert ret.amount_due == 0


def test_exchange_out_of_stock_changes_nothing(delivered, warehouse, shelf):
    ret = request(delivered)
    return_decide(return_request=ret, approve=True)
    return_receive(
        return_request=ret, received={ret.lines.get().pk: (1, "restock")}, warehouse=warehouse
    )
    StockLevel.objects.filter(variant=shelf["large"]).update(on_hand=0)
    with pytest.raises(ReturnError, match="not in stock"):
        return_exchange(return_request=ret, replacements={ret.lines.get().pk: shelf["large"].pk})
    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.RECEIVED
    assert not Shipment.objects.filter(return_request=ret).exists()


def test_each_warehouse_packs_and_ships_only_its_own_allocation(
    make_order, warehouse, carrier, shelf
):
    from tests.factories.inventory import WarehouseFactory, stock

    east = WarehouseFactory(code="east", priority=5)
    lamp = shelf["large"]
    StockLevel.objects.filter(variant=lamp).update(on_hand=0)  # the L only in the east
    stock(lamp, east, 3)
    order = make_order([(lamp, 1), (shelf["mug"], 1)])
    assert [row.units for row in fulfillment_queue(warehouse=warehouse)] == [1]
    assert [row.units for row in fulfillment_queue(warehouse=east)] == [1]
    with pytest.raises(ShipmentError, match="Nothing of SHIRT-L is left to pack from main"):
        shipment_scan(order=order, warehouse=warehouse, code="SHIRT-L")
    main_parcel = pack_and_ship(order, warehouse, carrier.service["standard"], [("MUG-1", 1)])
    assert main_parcel.warehouse == warehouse
    east_level = StockLevel.objects.get(variant=lamp, warehouse=east)
    assert (east_level.on_hand, east_level.allocated) == (3, 1)  # untouched by main's parcel
    pack_and_ship(order, east, carrier.service["standard"], [("SHIRT-L", 1)])
    east_level.refresh_from_db()
    assert (east_level.on_hand, east_level.allocated) == (2, 0)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED


def test_rate_service_refuses_nonsense(carrier, method):
    from fulfillment.services import carrier_rate_save

    with pytest.raises(ShipmentError, match="above zero"):
        carrier_rate_save(
            service=carrier.service["express"],
            zone=method.zone,
            max_weight_grams=0,
            price=Decimal(1),
        )
    with pytest.raises(ShipmentError, match="negative"):
        carrier_rate_save(
            service=carrier.service["express"],
            zone=method.zone,
            max_weight_grams=5,
            price=Decimal(-1),
        )
    assert carrier.service["express"].rates.count() == 2


def test_approval_emails_the_message_and_the_return_link(
    delivered, django_capture_on_commit_callbacks
):
    ret = request(delivered)
    with django_capture_on_commit_callbacks(execute=True):
        return_decide(return_request=ret, approve=True, message="Use any parcel service.")
    message = mail.outbox[-1]
    assert message.subject == f"Return {ret.number} approved"
    assert "Use any parcel service." in message.body
    assert f"/returns/{ret.pk}/" in message.body
    assert "Return approved email sent" in delivered.events.last().message


def test_units_of_a_pending_refund_cannot_be_asked_back_twice(delivered, warehouse):
    from fulfillment.returns import returnable_units

    ret = request(delivered, quantity=2)
    return_decide(return_request=ret, approve=True)
    return_receive(
        return_request=ret, received={ret.lines.get().pk: (2, "restock")}, warehouse=warehouse
    )
    refund = return_refund(return_request=ret)
    shirt = delivered.lines.get(sku="SHIRT-S")
    assert returnable_units(order=delivered)[shirt.pk]["units"] == 0
    # Had the provider not answered yet, the units are still held by this return.
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)
    from orders.models import OrderLine

    OrderLine.objects.filter(pk=shirt.pk).update(quantity_refunded=0)
    assert returnable_units(order=delivered)[shirt.pk]["units"] == 0
