from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from fulfillment.models import Carrier, Shipment
from fulfillment.services import shipment_scan, shipment_ship

pytestmark = pytest.mark.django_db
URL = "/fulfillment/tracking/parcelco/"


@pytest.fixture
def parcel(make_order, warehouse, carrier):
    line = shipment_scan(order=make_order(), warehouse=warehouse, code="MUG-1")
    return shipment_ship(
        shipment=line.shipment, service=carrier.service["standard"], tracking_number="PC123"
    )


def post(client, body, **headers):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_without_or_with_a_wrong_token_is_401_and_changes_nothing(client, parcel):
    body = json.dumps({"tracking_number": "PC123", "status": "delivered"})
    assert post(client, body).status_code == 401
    assert post(client, body, Authorization="Bearer wrong").status_code == 401
    assert post(client, body, Authorization="Basic s3cret").status_code == 401
    assert (
        client.post(
            "/fulfillment/tracking/nobody/",
            data=body,
            content_type="application/json",
            headers={"Authorization": "Bearer s3cret"},
        ).status_code
        == 401
    )
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.SHIPPED


def test_bearer_token_records_delivery_forward_only(client, parcel):
    auth = {"Authorization": "Bearer s3cret"}
    response = post(
        client, json.dumps({"tracking_number": "PC123", "status": "in_transit"}), **auth
    )
    assert response.json() == {"shipment": parcel.pk, "status": "in_transit"}
    post(
        client,
        json.dumps(
            {"tracking_number": "PC123", "status": "delivered", "message": "Left with neighbour"}
        ),
        **auth,
    )
    late = post(client, json.dumps({"tracking_number": "PC123", "status": "in_transit"}), **auth)
    assert late.json()["status"] == "delivered"  # a late event does not move it back
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.DELIVERED
    assert parcel.events.filter(source="webhook").count() == 2
    assert parcel.events.get(to_status="delivered").message == "Left with neighbour"


def test_hmac_signature(client, parcel):
    Carrier.objects.update(webhook_auth=Carrier.WebhookAuth.HMAC)
    body = json.dumps({"tracking_number": "PC123", "status": "delivered"}).encode()
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert post(client, body, **{"X-Signature": "0" * 64}).status_code == 401
    assert post(client, body, Authorization="Bearer s3cret").status_code == 401  # HMAC only
    assert post(client, body, **{"X-Signature": good}).status_code == 200
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.DELIVERED


def test_bad_payloads_are_400_and_unknown_parcels_404(client, parcel):
    auth = {"Authorization": "Bearer s3cret"}
    assert post(client, "not json", **auth).status_code == 400
    assert post(client, json.dumps({"status": "delivered"}), **auth).status_code == 400
    assert (
        post(
            client, json.dumps({"tracking_number": "PC123", "status": "shipped"}), **auth
        ).status_code
        == 400
    )
    assert (
        post(
            client, json.dumps({"tracking_number": "NOPE", "status": "delivered"}), **auth
        ).status_code
        == 404
    )
    assert client.get(URL, headers=auth).status_code == 405


def test_carrier_token_command_shows_and_rotates(carrier):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("carrier_token", "parcelco", stdout=out)
    assert "Token: s3cret" in out.getvalue()
    assert "/fulfillment/tracking/parcelco/" in out.getvalue()
    call_command("carrier_token", "parcelco", "--rotate", "--auth", "hmac", stdout=StringIO())
    carrier.refresh_from_db()
    assert carrier.webhook_token != "s3cret"
    assert len(carrier.webhook_token) >= 40
    assert carrier.webhook_auth == "hmac"
    with pytest.raises(CommandError, match="No carrier 'dhl'; there are: parcelco"):
        call_command("carrier_token", "dhl")
