from __future__ import annotations

import pytest
from django.template import Context, Template

from fulfillment.emails import status_token
from fulfillment.models import Shipment
from fulfillment.returns import return_request_create
from fulfillment.services import shipment_scan, shipment_ship, shipment_transition

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load fulfillment_tags %}" + source).render(Context(context))


def test_order_parcels_shows_tracking_and_the_return_link(make_order, warehouse, carrier):
    order = make_order()
    # Nothing shipped: no block at all (the order page's own progress says so).
    assert "Parcels" not in render("{% order_parcels order %}", order=order)
    assert "Return items" not in render("{% order_parcels order %}", order=order)
    line = shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S", quantity=2)
    shipment = shipment_ship(
        shipment=line.shipment, service=carrier.service["standard"], tracking_number="Q1"
    )
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    html = render("{% order_parcels order %}", order=order)
    assert 'href="https://track.parcelco.example/Q1"' in html
    assert f'href="/account/orders/{order.number}/return/"' in html
    ret = return_request_create(
        order=order, lines={order.lines.get(sku="SHIRT-S").pk: 2}, reason="other"
    )
    token = status_token(order)
    guest = render("{% order_parcels order token=token %}", order=order, token=token)
    assert f'href="/order/{token}/returns/{ret.pk}/"' in guest
    assert "Return items" not in guest  # everything shipped is being returned


def test_staff_tag_lists_parcels_and_returns(make_order, warehouse):
    order = make_order()
    shipment_scan(order=order, warehouse=warehouse, code="MUG-1")
    html = render("{% order_fulfillment_staff order %}", order=order)
    assert "Being packed" in html
    assert "/dashboard/fulfillment/shipments/" in html
