"""Setting up carriers and services from the dashboard: create, edit, switch off and on."""

from __future__ import annotations

import pytest

from fulfillment.carriers import proposed, service_options
from fulfillment.models import Carrier, CarrierService, Shipment
from fulfillment.services import (
    ShipmentError,
    carrier_save,
    carrier_service_save,
    shipment_scan,
    shipment_ship,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

CARRIERS = "/dashboard/fulfillment/carriers/"
NEW_CARRIER = "/dashboard/fulfillment/carriers/new/"
HTMX = {"HX-Request": "true"}


def new_service_url(carrier):
    return f"/dashboard/fulfillment/carriers/{carrier.pk}/services/new/"


def service_data(**changes):
    return {
        "name": "Budget",
        "code": "budget",
        "tracking_url_template": "https://track.parcelco.example/?id={tracking}",
        "transit_days_min": "1",
        "transit_days_max": "2",
        "is_active": "on",
    } | changes


@pytest.fixture
def warehouse_staff(client, roles, staff_login):
    return staff_login(StaffFactory(role="Warehouse"))


@pytest.fixture
def support(client, roles, staff_login):
    return staff_login(StaffFactory(role="Support"))


@pytest.fixture
def marketing(client, roles, staff_login):
    return staff_login(StaffFactory(role="Marketing"))


# --- The carriers page ------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 5])
def test_carriers_page_lists_with_bounded_queries(
    warehouse_staff, carrier, django_assert_max_num_queries, extra
):
    for index in range(extra):
        other = Carrier.objects.create(code=f"other-{index}", name=f"Other {index}")
        CarrierService.objects.create(carrier=other, code="std", name="Standard")
    with django_assert_max_num_queries(10):  # 10 for one carrier as for six
        page = warehouse_staff.get(CARRIERS)
    assert page.status_code == 200
    assert "Add carrier" in page.text
    assert f'href="/dashboard/fulfillment/carriers/{carrier.pk}/"' in page.text
    assert f'href="{new_service_url(carrier)}"' in page.text
    assert page.text.count(">Switch off<") == 1 + extra + 3 + extra  # carriers + services


def test_support_sees_carriers_without_the_setup_buttons(support, carrier):
    page = support.get(CARRIERS)
    assert page.status_code == 200
    assert "Parcel Co" in page.text
    assert "Add carrier" not in page.text
    assert "Switch off" not in page.text
    assert "Add service" not in page.text


# --- Creating a carrier -----------------------------------------------------------------------


def test_create_carrier_full_page(warehouse_staff):
    assert "Add carrier" in warehouse_staff.get(NEW_CARRIER).text
    response = warehouse_staff.post(
        NEW_CARRIER, {"name": "Swift Post", "code": "Swift-Post", "webhook_auth": "hmac"}
    )
    carrier = Carrier.objects.get()
    assert (carrier.name, carrier.code, carrier.webhook_auth) == (
        "Swift Post",
        "swift-post",
        "hmac",
    )
    assert carrier.is_active is False  # the box was left unticked
    assert response.status_code == 302
    assert response["Location"] == new_service_url(carrier)
    assert "Carrier “Swift Post” added" in warehouse_staff.get(response["Location"]).text


def test_create_carrier_htmx_redirects_the_whole_page(warehouse_staff):
    response = warehouse_staff.post(
        NEW_CARRIER,
        {"name": "Swift", "code": "swift", "webhook_auth": "bearer", "is_active": "on"},
        headers=HTMX,
    )
    carrier = Carrier.objects.get()
    assert carrier.is_active
    assert response.status_code == 200
    assert response["HX-Redirect"] == new_service_url(carrier)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "Copy", "code": "PARCELCO"}, "Another carrier already uses the code “parcelco”"),
        ({"name": "Bad", "code": "has space"}, "Enter a valid “slug”"),
        ({"name": "", "code": "fine"}, "This field is required"),
    ],
)
def test_bad_carrier_writes_nothing(warehouse_staff, carrier, data, error):
    data = data | {"webhook_auth": "bearer"}
    page = warehouse_staff.post(NEW_CARRIER, data)
    assert page.status_code == 400
    assert error in page.text
    assert "Nothing was saved" in page.text
    partial = warehouse_staff.post(NEW_CARRIER, data, headers=HTMX)
    assert partial.status_code == 200  # htmx swaps only 2xx answers
    assert partial.text.lstrip().startswith('<form id="edit-form"')
    assert error in partial.text
    assert list(Carrier.objects.values_list("code", flat=True)) == ["parcelco"]


# --- Editing a carrier ------------------------------------------------------------------------


def test_edit_carrier_keeps_its_code(warehouse_staff, carrier):
    url = f"/dashboard/fulfillment/carriers/{carrier.pk}/"
    assert "/fulfillment/tracking/parcelco/" in warehouse_staff.get(url).text
    response = warehouse_staff.post(
        url, {"name": "Parcel Company", "code": "hijack", "webhook_auth": "hmac", "is_active": "on"}
    )
    assert response["Location"] == f"{CARRIERS}#carrier-{carrier.pk}"
    carrier.refresh_from_db()
    assert (carrier.name, carrier.code, carrier.webhook_auth) == (
        "Parcel Company",
        "parcelco",  # the webhook address does not move
        "hmac",
    )


def test_edit_carrier_bad_input_htmx_partial_writes_nothing(warehouse_staff, carrier):
    url = f"/dashboard/fulfillment/carriers/{carrier.pk}/"
    partial = warehouse_staff.post(url, {"name": "", "is_active": "on"}, headers=HTMX)
    assert partial.text.lstrip().startswith('<form id="edit-form"')
    assert "This field is required" in partial.text
    carrier.refresh_from_db()
    assert carrier.name == "Parcel Co"


# --- Services ---------------------------------------------------------------------------------


def test_create_service_full_page_and_htmx(warehouse_staff, carrier):
    assert "New service" in warehouse_staff.get(new_service_url(carrier)).text
    response = warehouse_staff.post(new_service_url(carrier), service_data())
    assert response["Location"] == f"{CARRIERS}#carrier-{carrier.pk}"
    service = carrier.services.get(code="budget")
    assert (service.transit_days_min, service.transit_days_max) == (1, 2)
    assert service.tracking_url("AB1") == "https://track.parcelco.example/?id=AB1"
    response = warehouse_staff.post(
        new_service_url(carrier), service_data(name="Pallet", code="pallet"), headers=HTMX
    )
    assert response["HX-Redirect"] == f"{CARRIERS}#carrier-{carrier.pk}"
    assert carrier.services.filter(code="pallet").exists()


def test_same_service_code_is_fine_at_another_carrier(warehouse_staff, carrier):
    other = Carrier.objects.create(code="other", name="Other")
    warehouse_staff.post(new_service_url(other), service_data(code="express"))
    assert other.services.filter(code="express").exists()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code": "Express"}, "Parcel Co already has a service with the code “express”"),
        ({"tracking_url_template": "https://track.example/"}, "Put {tracking} where"),
        ({"tracking_url_template": "ftp://track.example/{tracking}"}, "starting with https://"),
        ({"tracking_url_template": "track.example/{tracking}"}, "starting with https://"),
        ({"tracking_url_template": "https://t.example/{id}/{tracking}"}, "not {id}"),
        ({"transit_days_min": "4", "transit_days_max": "2"}, "at least the shortest transit"),
        ({"transit_days_min": "-1"}, "greater than or equal to 0"),
        ({"transit_days_max": ""}, "This field is required"),
    ],
)
def test_bad_service_writes_nothing(warehouse_staff, carrier, changes, error):
    page = warehouse_staff.post(new_service_url(carrier), service_data(**changes))
    assert page.status_code == 400
    assert error in page.text
    assert "Nothing was saved" in page.text
    partial = warehouse_staff.post(new_service_url(carrier), service_data(**changes), headers=HTMX)
    assert partial.text.lstrip().startswith('<form id="edit-form"')
    assert error in partial.text
    assert carrier.services.count() == 3


def test_untracked_service_needs_no_link(warehouse_staff, carrier):
    warehouse_staff.post(new_service_url(carrier), service_data(tracking_url_template=""))
    assert carrier.services.get(code="budget").tracking_url("AB1") == ""


def test_edit_service(warehouse_staff, carrier):
    service = carrier.service["economy"]
    url = f"/dashboard/fulfillment/services/{service.pk}/"
    assert 'value="https://track.parcelco.example/{tracking}"' in warehouse_staff.get(url).text
    data = service_data(name="Saver", code="renamed", transit_days_min="0", transit_days_max="5")
    response = warehouse_staff.post(url, data)
    assert response["Location"] == f"{CARRIERS}#carrier-{carrier.pk}"
    service.refresh_from_db()
    assert (service.name, service.code, service.transit_days_min, service.transit_days_max) == (
        "Saver",
        "economy",
        0,
        5,
    )
    bad = warehouse_staff.post(url, service_data(transit_days_max="90000"), headers=HTMX)
    assert "less than or equal to 90" in bad.text
    service.refresh_from_db()
    assert service.transit_days_max == 5


# --- Switching off and on ---------------------------------------------------------------------


def test_switch_service_off_htmx_returns_the_card(warehouse_staff, carrier, make_order):
    service = carrier.service["standard"]
    url = f"/dashboard/fulfillment/services/{service.pk}/active/"
    response = warehouse_staff.post(url, {"active": "0"}, headers=HTMX)
    assert response.text.lstrip().startswith(
        f'<section class="card carrier-card" id="carrier-{carrier.pk}"'
    )
    assert "Parcel Co Standard switched off." in response.text
    service.refresh_from_db()
    assert not service.is_active
    options = service_options(order=make_order(), weight_grams=500)
    assert service not in [option.service for option in options]
    back = warehouse_staff.post(url, {"active": "1"})  # no JS: back to the list
    assert back["Location"] == f"{CARRIERS}#carrier-{carrier.pk}"
    service.refresh_from_db()
    assert service.is_active


def track(client, status):
    return client.post(
        "/fulfillment/tracking/parcelco/",
        {"tracking_number": "T-1", "status": status},
        content_type="application/json",
        headers={"Authorization": "Bearer s3cret"},
    )


def test_switching_off_a_used_carrier_keeps_its_parcels(
    warehouse_staff, carrier, make_order, warehouse
):
    order = make_order()
    line = order.lines.first()
    shipment_scan(order=order, warehouse=warehouse, code=line.sku, quantity=1)
    shipment = Shipment.objects.get(order=order)
    shipment_ship(shipment=shipment, service=carrier.service["standard"], tracking_number="T-1")
    assert track(warehouse_staff, "in_transit").status_code == 200  # the webhook works while on
    response = warehouse_staff.post(
        f"/dashboard/fulfillment/carriers/{carrier.pk}/active/", {"active": "0"}
    )
    assert response.status_code == 302
    carrier.refresh_from_db()
    assert not carrier.is_active
    assert CarrierService.objects.filter(carrier=carrier).count() == 3  # nothing deleted
    shipment.refresh_from_db()
    assert shipment.tracking_url == "https://track.parcelco.example/T-1"
    assert service_options(order=make_order(), weight_grams=500) == []
    assert "Switched off: none of its services" in warehouse_staff.get(CARRIERS).text
    # Its webhook no longer takes updates (the page says so, as does the switch's confirm).
    assert track(warehouse_staff, "delivered").status_code == 401


def test_carrier_save_refuses_a_code_differing_only_by_case(carrier):
    with pytest.raises(ShipmentError, match="already uses the code “parcelco”"):
        carrier_save(carrier=Carrier(code="ParcelCo", name="Twin"))
    twin = CarrierService(carrier=carrier, code="EXPRESS", name="Twin")
    with pytest.raises(ShipmentError, match="already has a service with the code “express”"):
        carrier_service_save(service=twin)
    with pytest.raises(ShipmentError, match="shortest transit"):
        carrier_service_save(
            service=CarrierService(
                carrier=carrier, code="slow", name="Slow", transit_days_min=5, transit_days_max=2
            )
        )
    assert Carrier.objects.count() == 1
    assert carrier.services.count() == 3


# --- What it is for: a new service is proposed when shipping ----------------------------------


def test_created_service_is_proposed_when_shipping(warehouse_staff, carrier, method, make_order):
    order = make_order()
    assert proposed(service_options(order=order, weight_grams=800)).service.code == "standard"
    warehouse_staff.post(new_service_url(carrier), service_data())
    budget = carrier.services.get(code="budget")
    warehouse_staff.post(
        CARRIERS,
        {"service": budget.pk, "zone": method.zone.pk, "max_weight_grams": 2000, "price": "4.00"},
    )
    best = proposed(service_options(order=order, weight_grams=800))
    assert best.service == budget
    assert str(best.cost) == "4.00"


# --- Who may ----------------------------------------------------------------------------------


def write_requests(carrier):
    service = carrier.service["express"]
    return [
        (NEW_CARRIER, {"name": "X", "code": "x"}),
        (f"/dashboard/fulfillment/carriers/{carrier.pk}/", {"name": "X", "is_active": "on"}),
        (f"/dashboard/fulfillment/carriers/{carrier.pk}/active/", {"active": "0"}),
        (new_service_url(carrier), service_data()),
        (f"/dashboard/fulfillment/services/{service.pk}/", service_data(name="X")),
        (f"/dashboard/fulfillment/services/{service.pk}/active/", {"active": "0"}),
    ]


@pytest.mark.parametrize("role", ["support", "marketing"])
def test_roles_without_the_permission_get_403_and_change_nothing(request, carrier, role):
    client = request.getfixturevalue(role)
    for url, data in write_requests(carrier):
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, headers=HTMX).status_code == 403, url
    assert client.get(NEW_CARRIER).status_code == 403
    assert Carrier.objects.get().name == "Parcel Co"
    assert Carrier.objects.get().is_active
    assert not CarrierService.objects.filter(is_active=False).exists()
    assert CarrierService.objects.count() == 3


def test_marketing_cannot_even_look(marketing, carrier):
    assert marketing.get(CARRIERS).status_code == 403
    assert marketing.get(f"/dashboard/fulfillment/carriers/{carrier.pk}/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, carrier):
    for url, data in write_requests(carrier):
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/"), response["Location"]
    assert Carrier.objects.get().name == "Parcel Co"


def test_support_reads_a_service_without_a_save_button(support, carrier):
    service = carrier.service["express"]
    page = support.get(f"/dashboard/fulfillment/services/{service.pk}/")
    assert page.status_code == 200
    assert 'value="Express"' in page.text
    assert "Save service" not in page.text


def test_codes_clash_without_regard_to_case_even_when_stored_upper_case(warehouse_staff):
    legacy = Carrier.objects.create(code="DHL", name="DHL (set up in the shell)")
    CarrierService.objects.create(carrier=legacy, code="Express", name="Express")
    page = warehouse_staff.post(NEW_CARRIER, {"name": "Dhl", "code": "dhl", "webhook_auth": "hmac"})
    assert "Another carrier already uses the code “dhl”" in page.text
    page = warehouse_staff.post(new_service_url(legacy), service_data(code="express"))
    assert "already has a service with the code “express”" in page.text
    assert Carrier.objects.count() == 1
    assert legacy.services.count() == 1
