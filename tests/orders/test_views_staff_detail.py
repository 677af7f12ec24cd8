"""One order in the dashboard: what it shows, each action with htmx and without, roles."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from inventory.models import StockLevel
from orders.models import Dispute, Order, OrderEvent, Payment, Refund
from orders.services import order_mark_paid, order_place, payment_status_set
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def order():
    warehouse = WarehouseFactory()
    mug = VariantFactory(price=Decimal("10.00"), sku="MUG-1")
    pan = VariantFactory(price=Decimal("30.00"), sku="PAN-1")
    stock(mug, warehouse, 5)
    stock(pan, warehouse, 5)
    return order_place(cart=ready_cart([(mug, 2), (pan, 1)]))


@pytest.fixture
def paid(order):
    order_mark_paid(order=order, actor=StaffFactory())
    order.refresh_from_db()
    return order


def url(order: Order, action: str = "") -> str:
    return f"/dashboard/orders/{order.number}/" + (f"{action}/" if action else "")


@pytest.fixture
def as_role(roles, staff_login):
    def sign_in(role: str):
        return staff_login(StaffFactory(role=role, full_name=f"{role} Person"))

    return sign_in


# --- The page --------------------------------------------------------------------------------


def test_detail_shows_lines_totals_customer_payments_and_timeline(as_role, order):
    page = as_role("Support").get(url(order))
    assert page.status_code == 200
    text = page.text
    for expected in ("Order #" + order.number, "MUG-1", "PAN-1", "Ada Lovelace", "Berlin"):
        assert expected in text
    assert f"{order.total} EUR" in text
    assert "Bank transfer" in text or "Banktransfer" in text
    assert "Order placed by ada@example.net" in text
    assert "Mark as paid" in text


def test_detail_shows_risk_reasons_failed_payments_and_disputes(as_role, order, settings):
    Order.objects.filter(pk=order.pk).update(
        risk_score=70,
        is_disputed=True,
        risk_reasons=[{"rule": "disposable_email", "points": 70, "reason": "Disposable email."}],
    )
    payment = order.payments.get()
    payment_status_set(payment=payment, status=Payment.Status.FAILED, failure_message="Declined")
    Dispute.objects.create(
        order=order,
        payment=payment,
        reference="dp_1",
        reason="fraudulent",
        amount=order.total,
        currency="EUR",
        status=Dispute.Status.NEEDS_RESPONSE,
    )
    text = as_role("Warehouse").get(url(order)).text
    assert "Risk 70" in text
    assert "Disposable email." in text
    assert "Declined" in text
    assert "The shopper's bank disputes this payment." in text
    assert "Needs response" in text


def test_each_region_answers_alone_for_htmx(as_role, order):
    client = as_role("Support")
    for region in ("order-header", "order-main", "order-body", "order-timeline", "refund-form"):
        response = client.get(url(order), {"region": region}, headers=HX)
        tag = "section" if region in ("order-header", "order-timeline") else "div"
        assert response.text.lstrip().startswith(f'<{tag} id="{region}"'), region
        assert "<html" not in response.text


def test_detail_page_in_a_bounded_number_of_queries(as_role, paid, django_assert_max_num_queries):
    client = as_role("Manager")
    with django_assert_max_num_queries(16):
        assert client.get(url(paid)).status_code == 200


def test_unknown_order_is_404(as_role):
    assert as_role("Support").get("/dashboard/orders/999999/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, order):
    assert client.get(url(order)).status_code == 302
    response = client.post(url(order, "mark-paid"))
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/")
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT


def test_marketing_cannot_see_an_order(as_role, order):
    assert as_role("Marketing").get(url(order)).status_code == 403


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("mark-paid", {}),
        ("cancel", {"reason": "x"}),
        ("hold", {"reason": "x"}),
        ("release", {}),
        ("note", {"message": "hello"}),
        ("refund", {"refund-amount": "1"}),
    ],
)
def test_warehouse_can_view_but_not_act(as_role, order, action, data):
    client = as_role("Warehouse")
    assert client.get(url(order)).status_code == 200
    assert client.post(url(order, action), data).status_code == 403
    assert client.post(url(order, action), data, headers=HX).status_code == 403
    assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.NOTE).exists()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT


def test_warehouse_sees_no_action_buttons(as_role, order):
    text = as_role("Warehouse").get(url(order)).text
    assert "Mark as paid" not in text
    assert "Add note" not in text
    assert "Cancel order" not in text


def test_actions_refuse_get(as_role, order):
    assert as_role("Manager").get(url(order, "mark-paid")).status_code == 405


# --- Mark paid -------------------------------------------------------------------------------


def test_mark_paid_with_htmx_returns_the_header_and_fires_order_updated(as_role, order):
    response = as_role("Support").post(url(order, "mark-paid"), headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="order-header"')
    assert "Marked as paid." in response.text
    assert "order-updated" in json.loads(response["HX-Trigger"])
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    event = order.events.filter(kind=OrderEvent.Kind.PAYMENT).get()
    assert event.actor.full_name == "Support Person"


def test_mark_paid_without_javascript_redirects_back(as_role, order):
    client = as_role("Support")
    response = client.post(url(order, "mark-paid"))
    assert response.status_code == 302
    assert response["Location"] == url(order)
    assert "Marked as paid." in client.get(url(order)).text


def test_mark_paid_twice_says_why_not(as_role, paid):
    response = as_role("Support").post(url(paid, "mark-paid"), headers=HX)
    assert "no manual payment waiting" in response.text
    assert Order.objects.get(pk=paid.pk).paid_total == paid.total


# --- Cancel ----------------------------------------------------------------------------------


def test_support_cancels_an_unpaid_order_and_stock_is_released(as_role, order):
    line = order.lines.get(sku="MUG-1")
    assert StockLevel.objects.get(variant_id=line.variant_id).allocated == 2
    response = as_role("Support").post(
        url(order, "cancel"), {"reason": "Asked by phone"}, headers=HX
    )
    assert "Order cancelled" in response.text
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert StockLevel.objects.get(variant_id=line.variant_id).allocated == 0
    assert order.events.filter(message="Cancelled: Asked by phone").exists()
    assert "Refund" not in response.text.split("order-actions")[0]  # nothing to refund


def test_cancelling_a_paid_order_offers_the_refund(as_role, paid):
    client = as_role("Manager")
    response = client.post(url(paid, "cancel"), {"reason": "Out of stock"})
    assert response["Location"] == url(paid) + "?refund=1#refund"
    page = client.get(response["Location"]).text
    assert "This order was paid: refund the shopper below." in page
    assert "<details open>" in page
    assert "This order is cancelled but was paid" in page
    # With htmx the header says so and the refund region refreshes itself, open.
    region = client.get(url(paid), {"region": "refund-form"}, headers=HX).text
    assert "<details open>" in region
    # Cancelling released the stock already: the refund puts nothing back a second time.
    assert "Put refunded units back in stock" not in region
    line = paid.lines.get(sku="MUG-1")
    client.post(url(paid, "refund"), {f"refund-line-{line.pk}": "2", "refund-restock": "on"})
    assert Refund.objects.get().restock is False
    assert StockLevel.objects.get(variant_id=line.variant_id).allocated == 0
    assert StockLevel.objects.get(variant_id=line.variant_id).on_hand == 5


def test_cancelling_a_cancelled_order_shows_the_illegal_transition(as_role, order):
    client = as_role("Manager")
    client.post(url(order, "cancel"))
    response = client.post(url(order, "cancel"), headers=HX)
    assert "An order that is cancelled cannot become cancelled." in response.text
    assert order.events.filter(kind=OrderEvent.Kind.STATUS).count() == 1


# --- Hold and release ------------------------------------------------------------------------


def test_hold_needs_a_reason_and_changes_nothing_without_one(as_role, order):
    response = as_role("Support").post(url(order, "hold"), {"reason": " "}, headers=HX)
    assert "Say why the order is held." in response.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT


def test_hold_then_release(as_role, order):
    client = as_role("Support")
    held = client.post(url(order, "hold"), {"reason": "Check the address"}, headers=HX)
    assert "On hold:</strong> Check the address" in held.text
    assert "Approve and release" in held.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.ON_HOLD
    released = client.post(url(order, "release"), headers=HX)
    assert "Order approved and released." in released.text
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert order.events.filter(message="Approved after review.").exists()


def test_release_of_an_order_not_on_hold_is_refused(as_role, order):
    response = as_role("Support").post(url(order, "release"), headers=HX)
    assert "This order is not on hold." in response.text


# --- Notes -----------------------------------------------------------------------------------


def test_support_adds_a_note_to_the_timeline(as_role, order):
    response = as_role("Support").post(
        url(order, "note"), {"message": "Called the shopper"}, headers=HX
    )
    assert response.text.lstrip().startswith('<section id="order-timeline"')
    assert "Called the shopper" in response.text
    assert "Support Person" in response.text
    assert order.events.filter(kind=OrderEvent.Kind.NOTE).count() == 1


def test_an_empty_note_writes_nothing(as_role, order):
    client = as_role("Support")
    response = client.post(url(order, "note"), {"message": ""}, headers=HX)
    assert "Write a note first." in response.text
    response = client.post(url(order, "note"), {"message": ""})
    assert response.status_code == 302
    assert not order.events.filter(kind=OrderEvent.Kind.NOTE).exists()


# --- Refunds ---------------------------------------------------------------------------------


def test_support_cannot_refund(as_role, paid):
    client = as_role("Support")
    assert "up to" not in client.get(url(paid)).text
    assert client.post(url(paid, "refund"), {"refund-amount": "5"}).status_code == 403
    assert not Refund.objects.exists()


def test_refund_one_line_with_restock_puts_the_stock_back(as_role, paid):
    line = paid.lines.get(sku="MUG-1")
    level = StockLevel.objects.get(variant_id=line.variant_id)
    assert level.allocated == 2
    client = as_role("Manager")
    response = client.post(
        url(paid, "refund"),
        {f"refund-line-{line.pk}": "1", "refund-reason": "Chipped", "refund-restock": "on"},
        headers=HX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="order-header"')
    assert "Refunded 10.00 EUR." in response.text
    assert "Partially refunded" in response.text
    assert "order-updated" in json.loads(response["HX-Trigger"])
    refund = Refund.objects.get()
    assert refund.amount == Decimal("10.00")
    assert refund.restock is True
    level.refresh_from_db()
    assert level.allocated == 1
    line.refresh_from_db()
    assert line.quantity_refunded == 1
    # The rest of the page refreshes in one request on "order-updated".
    main = client.get(url(paid), {"region": "order-main"}, headers=HX).text
    assert main.lstrip().startswith('<div id="order-main"')
    assert "Chipped" in main  # the refunds table
    timeline = client.get(url(paid), {"region": "order-timeline"}, headers=HX).text
    assert "Refunded 10.00 EUR: Chipped" in timeline
    assert "1 unit not shipped released back to stock." in timeline


def test_refund_an_amount_without_restock(as_role, paid):
    client = as_role("Owner")
    response = client.post(url(paid, "refund"), {"refund-amount": "5.50"})
    assert response.status_code == 302
    assert Refund.objects.get().amount == Decimal("5.50")
    assert StockLevel.objects.filter(allocated=0).count() == 0


def test_refund_lines_with_shipping(as_role, paid):
    line = paid.lines.get(sku="PAN-1")
    as_role("Owner").post(
        url(paid, "refund"),
        {f"refund-line-{line.pk}": "1", "refund-shipping": str(paid.shipping_total)},
    )
    assert Refund.objects.get().amount == line.line_total + paid.shipping_total


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose lines to refund or enter an amount above zero."),
        ({"refund-amount": "1000"}, "At most"),
        ({"refund-amount": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"refund-amount": "abc"}, "Enter a number."),
        ({"line": 3}, "Only 2 of MUG-1 can still be refunded."),
        ({"line": 1, "refund-amount": "3"}, "Refund either lines or an amount, not both."),
        ({"refund-shipping": "1"}, "Shipping is refunded with lines"),
        ({"line": 1, "refund-shipping": "999"}, "of shipping is left to refund"),
    ],
)
def test_bad_refunds_explain_and_write_nothing(as_role, paid, data, message):
    line = paid.lines.get(sku="MUG-1")
    if "line" in data:
        data[f"refund-line-{line.pk}"] = str(data.pop("line"))
    client = as_role("Manager")
    page = client.post(url(paid, "refund"), data)
    assert page.status_code == 400
    assert message in page.text
    region = client.post(url(paid, "refund"), data, headers=HX)
    assert region.status_code == 200
    assert region.text.lstrip().startswith('<div id="refund-form"')
    assert region["HX-Retarget"] == "#refund-form"
    assert message in region.text
    assert "HX-Trigger" not in region
    assert not Refund.objects.exists()
    assert Order.objects.get(pk=paid.pk).refunded_total == 0


def test_a_fully_refunded_order_offers_no_more_refund(as_role, paid):
    client = as_role("Manager")
    client.post(url(paid, "refund"), {"refund-amount": str(paid.paid_total)})
    paid.refresh_from_db()
    assert paid.status == Order.Status.REFUNDED
    page = client.get(url(paid)).text
    assert 'id="refund"' not in page
    response = client.post(url(paid, "refund"), {"refund-amount": "1"})
    assert "At most 0.00 EUR can be refunded." in response.text
    assert Refund.objects.count() == 1


def test_a_provider_failure_is_shown_and_left_on_the_timeline(as_role, paid, monkeypatch):
    from orders.payments import ManualProvider, PaymentError

    def refuse(self, *, refund):
        raise PaymentError("The bank refused the refund.")

    monkeypatch.setattr(ManualProvider, "refund", refuse)
    client = as_role("Manager")
    response = client.post(url(paid, "refund"), {"refund-amount": "5"}, headers=HX)
    assert "The bank refused the refund." in response.text
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert Order.objects.get(pk=paid.pk).refunded_total == 0
    timeline = client.get(url(paid), {"region": "order-timeline"}, headers=HX).text
    assert "Refund of 5.00 EUR failed: The bank refused the refund." in timeline


# --- Layout details ----------------------------------------------------------------------------


def test_header_badges_say_which_state_they_show(as_role, paid):
    header = (
        as_role("Support").get(url(paid)).text.split('id="order-header"')[1].split("</section>")[0]
    )
    assert (
        '<span class="status-pair__key">Order</span> <span class="badge badge--o-paid">Paid</span>'
        in header
    )
    assert (
        '<span class="status-pair__key">Payment</span> '
        '<span class="badge badge--p-paid">Paid</span>' in header
    )
    assert (
        '<span class="status-pair__key">Fulfillment</span> '
        '<span class="badge badge--f-unfulfilled">Unfulfilled</span>' in header
    )


def test_a_refund_nobody_signed_for_shows_a_dash(as_role, paid):
    # Refunds recorded by a webhook, or whose staff account was deleted, have no created_by.
    Refund.objects.create(
        order=paid,
        payment=paid.payments.get(),
        amount=Decimal("5.00"),
        currency="EUR",
        status=Refund.Status.SUCCEEDED,
        reason="From the Stripe dashboard",
        created_by=None,
    )
    page = as_role("Support").get(url(paid))
    assert page.status_code == 200
    refunds = page.text.split("<h2>Refunds</h2>")[1].split("</section>")[0]
    assert "From the Stripe dashboard" in refunds
    assert '<td class="cell-wrap">—</td>' in refunds
