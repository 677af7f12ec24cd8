from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.emails import status_token
from fulfillment.models import ReturnRequest, Shipment
from fulfillment.returns import return_request_create
from fulfillment.services import shipment_scan, shipment_ship, shipment_transition
from tests.factories import ShopperFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliver(warehouse, carrier):
    def run(order):
        line = shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S", quantity=2)
        shipment = shipment_ship(shipment=line.shipment, service=carrier.service["standard"])
        shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
        return order

    return run


@pytest.fixture
def shopper():
    # Confirmed: only a confirmed account is linked to the orders of its email.
    return ShopperFactory(email_confirmed_at=timezone.now())


@pytest.fixture
def own_order(make_order, deliver, shopper):
    return deliver(make_order(email=shopper.email, user=shopper))


def test_signed_in_owner_requests_a_return(
    client, shopper, own_order, django_capture_on_commit_callbacks
):
    client.force_login(shopper)
    url = f"/account/orders/{own_order.number}/return/"
    page = client.get(url)
    assert page.status_code == 200
    assert "How many of Linen Shirt — S" in page.text
    assert "Stoneware Mug" in page.text
    assert "Not shipped yet" in page.text
    line = own_order.lines.get(sku="SHIRT-S")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {f"line_{line.pk}": 1, "reason": "too_large", "comment": "Roomy"}
        )
    ret = ReturnRequest.objects.get()
    assert response["Location"] == f"/account/returns/{ret.pk}/"
    assert ret.requested_by == shopper
    assert mail.outbox[-1].to == [own_order.email]
    detail = client.get(response["Location"])
    assert "Return R" in detail.text
    assert "Too large" in detail.text


def test_bad_return_requests_say_why_and_write_nothing(client, shopper, own_order):
    client.force_login(shopper)
    url = f"/account/orders/{own_order.number}/return/"
    line = own_order.lines.get(sku="SHIRT-S")
    nothing = client.post(url, {f"line_{line.pk}": 0, "reason": "too_large"})
    assert nothing.status_code == 400
    assert "Choose at least one item" in nothing.text
    too_many = client.post(
        url, {f"line_{line.pk}": 9, "reason": "too_large"}, headers={"HX-Request": "true"}
    )
    assert too_many.text.lstrip().startswith('<div id="return-form">')
    assert "less than or equal to 2" in too_many.text
    no_reason = client.post(url, {f"line_{line.pk}": 1, "reason": ""})
    assert no_reason.status_code == 400
    assert not ReturnRequest.objects.exists()
    # Sent with htmx, a good request sends the whole page on to the return.
    done = client.post(
        url, {f"line_{line.pk}": 1, "reason": "other"}, headers={"HX-Request": "true"}
    )
    assert done["HX-Redirect"] == f"/account/returns/{ReturnRequest.objects.get().pk}/"


def test_a_shopper_cannot_open_anothers_order_or_return(client, own_order, make_order, deliver):
    ret = return_request_create(
        order=own_order, lines={own_order.lines.get(sku="SHIRT-S").pk: 1}, reason="other"
    )
    client.force_login(ShopperFactory())
    assert client.get(f"/account/orders/{own_order.number}/return/").status_code == 404
    assert (
        client.post(f"/account/orders/{own_order.number}/return/", {"reason": "other"}).status_code
        == 404
    )
    assert client.get(f"/account/returns/{ret.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/account/returns/{ret.pk}/").status_code == 404
    # A guest link opens only returns of its own order.
    other = deliver(make_order(email="someone@example.net"))
    assert client.get(f"/order/{status_token(other)}/returns/{ret.pk}/").status_code == 404
    assert client.get(f"/order/{status_token(own_order)}/returns/{ret.pk}/").status_code == 200
    assert client.get("/order/forged-token/return/").status_code == 404


def test_guest_requests_a_return_with_the_signed_link(client, make_order, deliver):
    order = deliver(make_order(email="guest@example.net"))
    token = status_token(order)  # signed with a timestamp: computed once
    url = f"/order/{token}/return/"
    line = order.lines.get(sku="SHIRT-S")
    response = client.post(url, {f"line_{line.pk}": 2, "reason": "damaged"})
    ret = ReturnRequest.objects.get()
    assert response["Location"] == f"/order/{token}/returns/{ret.pk}/"
    assert ret.requested_by is None
    again = client.get(url)
    assert ret.number in again.text
    assert "Nothing on this order can be returned right now" in again.text


def test_outside_the_window_nothing_can_be_chosen(client, make_order, deliver, settings):
    order = deliver(make_order(email="late@example.net"))
    settings.RETURN_WINDOW_DAYS = 0
    from datetime import timedelta

    from django.utils import timezone

    Shipment.objects.update(delivered_at=timezone.now() - timedelta(days=2))
    page = client.get(f"/order/{status_token(order)}/return/")
    assert "return window closed" in page.text
    assert "Request the return" not in page.text


# --- The orders app's pages show parcels and returns through fulfillment's tags ----------


def test_guest_order_page_shows_the_parcel_and_offers_a_return(client, make_order, deliver):
    order = deliver(make_order())
    token = status_token(order)
    page = client.get(f"/order/{token}/").content.decode()
    assert "Delivered" in page
    assert f"/order/{token}/return/" in page


def test_owner_order_page_links_the_account_return_form(client, make_order, deliver, shopper):
    order = deliver(make_order(email=shopper.email, user=shopper))
    client.force_login(shopper)
    page = client.get(f"/account/orders/{order.number}/").content.decode()
    assert f"/account/orders/{order.number}/return/" in page


def test_staff_order_page_lists_the_parcels(client, staff_login, owner, make_order, deliver):
    order = deliver(make_order())
    staff_login(owner)
    page = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert "/dashboard/fulfillment/shipments/" in page
