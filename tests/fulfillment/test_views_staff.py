from __future__ import annotations

from decimal import Decimal

import pytest

from fulfillment.models import ReturnRequest, Shipment, ShipmentLine
from fulfillment.returns import return_decide, return_request_create
from fulfillment.services import shipment_scan, shipment_ship, shipment_transition
from orders.models import Order
from orders.services import order_hold
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse_staff(client, roles, staff_login):
    return staff_login(StaffFactory(role="Warehouse"))


@pytest.fixture
def support(client, roles, staff_login):
    return staff_login(StaffFactory(role="Support"))


def pack_url(order, code="main"):
    return f"/dashboard/fulfillment/queue/{code}/orders/{order.number}/pack/"


@pytest.mark.parametrize("count", [1, 12])
def test_queue_full_page_partial_and_bounded_queries(
    warehouse_staff, make_order, warehouse, django_assert_max_num_queries, count
):
    orders = [make_order() for _ in range(count)]
    order_hold(order=orders[-1], reason="Fraud check")
    with django_assert_max_num_queries(10):
        page = warehouse_staff.get("/dashboard/fulfillment/queue/main/")
    assert page.status_code == 200
    assert "Same-day cut-off 14:00" in page.text
    assert orders[0].number in page.text
    assert "On hold" in page.text
    assert page.text.count(">Pack</a>") == count - 1  # the held order has no Pack button
    partial = warehouse_staff.get(
        "/dashboard/fulfillment/queue/main/", headers={"HX-Request": "true"}
    )
    assert partial.text.lstrip().startswith('<div id="queue-rows">')


def test_index_redirects_to_the_first_warehouse_queue(warehouse_staff, warehouse):
    response = warehouse_staff.get("/dashboard/fulfillment/")
    assert response["Location"] == "/dashboard/fulfillment/queue/main/"


def test_pick_list_is_printable_and_in_bin_order(warehouse_staff, make_order, shelf):
    first, second = make_order(), make_order([(shelf["large"], 1)])
    page = warehouse_staff.get(
        "/dashboard/fulfillment/queue/main/pick/", {"orders": [first.number, second.number]}
    ).text
    assert "print.css" in page
    assert page.index("A-01") < page.index("B-02") < page.index("B-03")
    empty = warehouse_staff.get("/dashboard/fulfillment/queue/main/pick/")
    assert empty.status_code == 302


def test_pack_screen_scan_confirms_right_item_and_refuses_wrong_one(warehouse_staff, make_order):
    order = make_order()
    page = warehouse_staff.get(pack_url(order))
    assert page.status_code == 200
    assert "0 of 3 units packed" in page.text

    right = warehouse_staff.post(
        pack_url(order), {"code": "SHIRT-S", "quantity": 1}, headers={"HX-Request": "true"}
    )
    assert right.text.lstrip().startswith('<div id="pack-work">')
    assert "✓ SHIRT-S: 1 packed." in right.text
    assert "packed" in right["HX-Trigger"]

    wrong = warehouse_staff.post(
        pack_url(order), {"code": "SHIRT-L", "quantity": 1}, headers={"HX-Request": "true"}
    )
    assert "Wrong item: SHIRT-L is not in order" in wrong.text
    assert "HX-Trigger" not in wrong
    too_many = warehouse_staff.post(pack_url(order), {"code": "MUG-1", "quantity": 2})
    assert too_many.status_code == 400
    assert "Only 1 more of MUG-1" in too_many.text
    assert ShipmentLine.objects.get().quantity == 1
    assert "1 of 3 units packed" in too_many.text


def test_ship_from_the_pack_screen_partial_shipment(warehouse_staff, make_order, carrier):
    order = make_order()
    warehouse_staff.post(pack_url(order), {"code": "SHIRT-S", "quantity": 2})
    page = warehouse_staff.get(pack_url(order)).text
    assert "partial shipment" in page
    assert "Proposed: Parcel Co Standard" in page
    shipment = Shipment.objects.get()
    response = warehouse_staff.post(
        f"/dashboard/fulfillment/shipments/{shipment.pk}/ship/",
        {"service": carrier.service["standard"].pk, "tracking_number": "T-9", "weight_grams": 600},
    )
    assert response["Location"] == f"/dashboard/fulfillment/shipments/{shipment.pk}/"
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_FULFILLED
    detail = warehouse_staff.get(response["Location"]).text
    assert "https://track.parcelco.example/T-9" in detail


def test_a_held_order_shows_why_and_offers_no_scan(warehouse_staff, make_order):
    order = make_order()
    order_hold(order=order, reason="Dispute opened")
    page = warehouse_staff.get(pack_url(order)).text
    assert "On hold: Dispute opened" in page
    assert 'name="code"' not in page
    refused = warehouse_staff.post(pack_url(order), {"code": "MUG-1", "quantity": 1})
    assert refused.status_code == 400
    assert not Shipment.objects.exists()


def test_bad_ship_form_changes_nothing(warehouse_staff, make_order):
    order = make_order()
    warehouse_staff.post(pack_url(order), {"code": "MUG-1", "quantity": 1})
    shipment = Shipment.objects.get()
    response = warehouse_staff.post(
        f"/dashboard/fulfillment/shipments/{shipment.pk}/ship/", {"weight_grams": "x"}
    )
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.READY
    follow = warehouse_staff.get(response["Location"])
    assert "Choose a carrier service" in follow.text


def test_shipment_status_by_staff_htmx(warehouse_staff, make_order, warehouse, carrier):
    order = make_order()
    line = shipment_scan(order=order, warehouse=warehouse, code="MUG-1")
    shipment = shipment_ship(shipment=line.shipment, service=carrier.service["standard"])
    url = f"/dashboard/fulfillment/shipments/{shipment.pk}/status/"
    response = warehouse_staff.post(url, {"status": "delivered"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section class="card" id="shipment-status">')
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    again = warehouse_staff.post(url, {"status": "in_transit"})
    assert again.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED


def test_shipments_list_and_partial(
    warehouse_staff, make_order, warehouse, carrier, django_assert_max_num_queries
):
    for _ in range(3):
        line = shipment_scan(order=make_order(), warehouse=warehouse, code="MUG-1")
        shipment_ship(
            shipment=line.shipment, service=carrier.service["standard"], tracking_number="Z"
        )
    with django_assert_max_num_queries(10):
        page = warehouse_staff.get("/dashboard/fulfillment/shipments/")
    assert page.text.count("Parcel Co Standard") == 3
    partial = warehouse_staff.get(
        "/dashboard/fulfillment/shipments/", {"status": "delivered"}, headers={"HX-Request": "true"}
    )
    assert partial.text.lstrip().startswith('<div id="shipment-rows">')
    assert "No parcels" in partial.text


def test_support_can_look_but_not_pack_or_ship(support, make_order, warehouse, carrier):
    order = make_order()
    assert support.get("/dashboard/fulfillment/queue/main/").status_code == 200
    assert support.get(pack_url(order)).status_code == 403
    line = shipment_scan(order=order, warehouse=warehouse, code="MUG-1")
    response = support.post(
        f"/dashboard/fulfillment/shipments/{line.shipment_id}/ship/",
        {"service": carrier.service["standard"].pk, "weight_grams": 1},
    )
    assert response.status_code == 403
    assert support.get("/dashboard/fulfillment/carriers/").status_code == 200


def test_marketing_is_refused_and_anonymous_sent_to_sign_in(client, roles, staff_login, warehouse):
    assert client.get("/dashboard/fulfillment/queue/main/")["Location"].startswith(
        "/dashboard/login/"
    )
    staff_login(StaffFactory(role="Marketing"))
    assert client.get("/dashboard/fulfillment/queue/main/").status_code == 403
    assert client.get("/dashboard/fulfillment/returns/").status_code == 403


# --- Returns ---------------------------------------------------------------------------------


@pytest.fixture
def requested(make_order, warehouse, carrier):
    order = make_order()
    line = shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S", quantity=2)
    shipment = shipment_ship(shipment=line.shipment, service=carrier.service["standard"])
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    return return_request_create(
        order=order, lines={order.lines.get(sku="SHIRT-S").pk: 2}, reason="too_small"
    )


def test_support_decides_receives_and_refunds_through_htmx(
    support, requested, staff_login, django_assert_max_num_queries
):
    url = f"/dashboard/fulfillment/returns/{requested.pk}/"
    with django_assert_max_num_queries(14):
        page = support.get(url)
    assert "Send decision" in page.text
    bad = support.post(
        url + "decide/", {"decision": "reject", "message": ""}, headers={"HX-Request": "true"}
    )
    assert "Tell the shopper why" in bad.text
    requested.refresh_from_db()
    assert requested.status == ReturnRequest.Status.REQUESTED

    support.post(
        url + "decide/",
        {"decision": "approve", "message": "Thanks!"},
        headers={"HX-Request": "true"},
    )
    line = requested.lines.get()
    received = support.post(
        url + "receive/",
        {
            "warehouse": requested.order.lines.first().variant.stock.first().warehouse_id,
            f"received_{line.pk}": 2,
            f"condition_{line.pk}": "restock",
        },
        headers={"HX-Request": "true"},
    )
    assert received.text.lstrip().startswith('<div id="return-work">')
    assert "Refund or exchange" in received.text
    # Sending money back needs the refund permission (Support has none): a manager does it.
    refused = support.post(url + "settle/", {"action": "refund"})
    assert refused.status_code == 403
    requested.refresh_from_db()
    assert requested.status == ReturnRequest.Status.RECEIVED
    manager = staff_login(StaffFactory(role="Manager"))
    manager.post(url + "settle/", {"action": "refund"})
    requested.refresh_from_db()
    assert requested.status == ReturnRequest.Status.REFUNDED
    assert requested.refund.amount == requested.order.lines.get(sku="SHIRT-S").line_total


def test_return_list_full_and_partial(support, requested, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = support.get("/dashboard/fulfillment/returns/")
    assert requested.number in page.text
    partial = support.get(
        "/dashboard/fulfillment/returns/", {"status": "rejected"}, headers={"HX-Request": "true"}
    )
    assert partial.text.lstrip().startswith('<div id="return-rows">')
    assert requested.number not in partial.text


def test_warehouse_without_return_change_cannot_settle(client, roles, staff_login, requested):
    staff_login(StaffFactory(role="Marketing"))
    assert (
        client.post(
            f"/dashboard/fulfillment/returns/{requested.pk}/decide/", {"decision": "approve"}
        ).status_code
        == 403
    )
    return_decide(return_request=requested, approve=True)
    requested.refresh_from_db()
    assert requested.status == ReturnRequest.Status.APPROVED


def test_reports_render_full_and_partial(warehouse_staff, support, requested):
    page = warehouse_staff.get("/dashboard/fulfillment/reports/delivery/")
    assert page.status_code == 200
    assert "Parcel Co Standard" in page.text
    partial = warehouse_staff.get(
        "/dashboard/fulfillment/reports/delivery/", {"weeks": 4}, headers={"HX-Request": "true"}
    )
    assert partial.text.lstrip().startswith('<div id="report-body">')
    returns = support.get("/dashboard/fulfillment/reports/returns/")
    assert "Linen Shirt" in returns.text
    assert "Too small" in returns.text


def test_packing_slip_prints_the_address_and_lines(warehouse_staff, make_order):
    order = make_order()
    page = warehouse_staff.get(f"/dashboard/fulfillment/queue/main/orders/{order.number}/slip/")
    assert page.status_code == 200
    assert f"Packing slip · order {order.number}" in page.text
    assert "12 Analytical Street" in page.text
    assert "SHIRT-S" in page.text
    assert "print.css" in page.text


def test_rate_table_edits(warehouse_staff, carrier, method):
    service = carrier.service["express"]
    url = "/dashboard/fulfillment/carriers/"
    bad = warehouse_staff.post(
        url, {"service": service.pk, "zone": method.zone.pk, "max_weight_grams": 0, "price": "-1"}
    )
    assert bad.status_code == 400
    assert service.rates.count() == 2
    warehouse_staff.post(
        url,
        {"service": service.pk, "zone": method.zone.pk, "max_weight_grams": 2000, "price": "9.99"},
    )
    assert service.rates.get(max_weight_grams=2000).price == Decimal("9.99")  # replaced
    assert service.rates.count() == 2
    rate = service.rates.get(max_weight_grams=10000)
    warehouse_staff.post(url, {"delete": rate.pk})
    assert service.rates.count() == 1
    assert "Set a rate" in warehouse_staff.get(url).text


def test_support_sees_carriers_but_cannot_change_rates(support, carrier, method):
    assert "Set a rate" not in support.get("/dashboard/fulfillment/carriers/").text
    rate = carrier.service["express"].rates.first()
    assert support.post("/dashboard/fulfillment/carriers/", {"delete": rate.pk}).status_code == 403
    rate.refresh_from_db()


def test_exchange_from_the_return_page_makes_a_parcel_to_ship(
    warehouse_staff, requested, shelf, carrier
):
    from fulfillment.returns import return_receive

    return_decide(return_request=requested, approve=True)
    line = requested.lines.get()
    return_receive(
        return_request=requested,
        received={line.pk: (2, "restock")},
        warehouse=shelf["small"].stock.first().warehouse,
    )
    url = f"/dashboard/fulfillment/returns/{requested.pk}/settle/"
    missing = warehouse_staff.post(url, {"action": "exchange"}, headers={"HX-Request": "true"})
    assert "choose the replacement variant" in missing.text
    warehouse_staff.post(url, {"action": "exchange", f"variant_{line.pk}": shelf["large"].pk})
    requested.refresh_from_db()
    assert requested.status == ReturnRequest.Status.EXCHANGED
    assert requested.amount_due == Decimal("10.00")  # two L at 45.00 for two S at 40.00
    parcel = Shipment.objects.get(return_request=requested)
    queue = warehouse_staff.get("/dashboard/fulfillment/queue/main/").text
    assert f"return {requested.number} of order {requested.order.number}" in queue
    page = warehouse_staff.get(f"/dashboard/fulfillment/shipments/{parcel.pk}/").text
    assert "replacement for return" in page
    assert "Ship" in page
    warehouse_staff.post(
        f"/dashboard/fulfillment/shipments/{parcel.pk}/ship/",
        {"service": carrier.service["standard"].pk, "weight_grams": 640},
    )
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.SHIPPED


def test_start_over_empties_the_parcel(warehouse_staff, make_order):
    order = make_order()
    warehouse_staff.post(pack_url(order), {"code": "MUG-1", "quantity": 1})
    response = warehouse_staff.post(pack_url(order), {"start_over": "1"})
    assert response.status_code == 302
    assert Shipment.objects.get().status == Shipment.Status.CANCELLED
    page = warehouse_staff.get(pack_url(order)).text
    assert "0 of 3 units packed" in page
    warehouse_staff.post(pack_url(order), {"code": "MUG-1", "quantity": 1})
    assert Shipment.objects.filter(status="ready").count() == 1
