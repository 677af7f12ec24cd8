"""Saved addresses: list, add, edit, delete, defaults; only ever the shopper's own."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.models import Address
from customers.records import customer_for_email
from customers.services import AccountError, address_save, address_set_default
from tests.factories import ShopperFactory
from tests.factories.customers import AddressFactory

pytestmark = pytest.mark.django_db

VALID = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "sw1y 4jh",
    "country": "GB",
}


@pytest.fixture
def shopper(client):
    user = ShopperFactory(email_confirmed_at=timezone.now())
    customer = customer_for_email(email=user.email, user=user)
    client.force_login(user)
    return customer


def test_the_first_address_becomes_both_defaults(client, shopper):
    response = client.post("/account/addresses/new/", VALID)
    assert response["Location"] == "/account/addresses/"
    address = Address.objects.get()
    assert address.customer == shopper
    assert address.postal_code == "SW1Y 4JH"
    assert address.is_default_shipping
    assert address.is_default_billing


def test_the_list_shows_addresses_with_country_names(client, shopper):
    AddressFactory(customer=shopper, country="DE", city="Leipzig")
    page = client.get("/account/addresses/").text
    assert "Leipzig" in page
    assert "Germany" in page
    assert "<html" in page


def test_the_list_answers_htmx_with_its_region(client, shopper):
    AddressFactory(customer=shopper, city="Leipzig")
    response = client.get("/account/addresses/", headers={"HX-Request": "true"})
    assert 'id="address-list"' in response.text
    assert "Leipzig" in response.text
    assert "<html" not in response.text


def test_the_form_page_lists_countries(client, shopper):
    page = client.get("/account/addresses/new/").text
    assert '<option value="DE">Germany</option>' in page
    assert 'autocomplete="postal-code"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "XX", "Choose a country from the list."),
        ("country", "Germany", "Choose a country from the list."),
        ("country", "", "Choose a country."),
        ("postal_code", "  ", "Enter the postal code."),
        ("line1", "", "Enter the street address."),
    ],
)
def test_bad_address_input_is_explained_and_writes_nothing(client, shopper, field, value, message):
    response = client.post("/account/addresses/new/", {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.text
    assert "Please correct the fields marked below." in response.text
    assert not Address.objects.exists()


def test_a_lower_case_country_code_is_accepted(client, shopper):
    client.post("/account/addresses/new/", {**VALID, "country": "gb"})
    assert Address.objects.get().country == "GB"


def test_editing_changes_the_address(client, shopper):
    address = AddressFactory(customer=shopper)
    response = client.get(f"/account/addresses/{address.pk}/")
    assert address.line1 in response.text
    response = client.post(f"/account/addresses/{address.pk}/", {**VALID, "city": "Leeds"})
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.city == "Leeds"


def test_a_bad_edit_changes_nothing(client, shopper):
    address = AddressFactory(customer=shopper, city="York")
    response = client.post(
        f"/account/addresses/{address.pk}/", {**VALID, "city": "Leeds", "country": "ZZ"}
    )
    assert response.status_code == 400
    address.refresh_from_db()
    assert address.city == "York"


def test_ticking_default_on_a_new_address_moves_the_default(client, shopper):
    first = AddressFactory(customer=shopper, is_default_shipping=True, is_default_billing=True)
    client.post("/account/addresses/new/", {**VALID, "default_shipping": "on"})
    first.refresh_from_db()
    new = Address.objects.exclude(pk=first.pk).get()
    assert new.is_default_shipping
    assert not first.is_default_shipping
    assert first.is_default_billing
    assert not new.is_default_billing


@pytest.mark.parametrize("htmx", [False, True])
def test_setting_a_default_switches_it_in_one_step(client, shopper, htmx):
    old = AddressFactory(customer=shopper, is_default_shipping=True, is_default_billing=True)
    new = AddressFactory(customer=shopper)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(
        f"/account/addresses/{new.pk}/default/", {"kind": "billing"}, headers=headers
    )
    if htmx:
        assert 'id="address-list"' in response.text
        assert "<html" not in response.text
    else:
        assert response["Location"] == "/account/addresses/"
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.is_default_billing
    assert not old.is_default_billing
    assert old.is_default_shipping
    assert not new.is_default_shipping


def test_an_unknown_default_kind_is_refused(client, shopper):
    address = AddressFactory(customer=shopper)
    response = client.post(f"/account/addresses/{address.pk}/default/", {"kind": "x"}, follow=True)
    assert "Choose shipping or billing." in response.text
    address.refresh_from_db()
    assert not address.is_default_shipping
    assert not address.is_default_billing
    with pytest.raises(AccountError):
        address_set_default(address=address, kind="gift")


def test_the_database_keeps_one_default_per_kind(shopper):
    AddressFactory(customer=shopper, is_default_shipping=True)
    second = address_save(customer=shopper, data=VALID | {"country": "GB"}, default_shipping=True)
    assert Address.objects.filter(customer=shopper, is_default_shipping=True).get() == second


@pytest.mark.parametrize("htmx", [False, True])
def test_deleting_an_address(client, shopper, htmx):
    address = AddressFactory(customer=shopper)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"/account/addresses/{address.pk}/delete/", headers=headers)
    assert response.status_code in (200, 302)
    assert not Address.objects.exists()


def test_another_shoppers_address_is_404_for_every_action(client, shopper):
    other = AddressFactory(city="Elsewhere")
    base = f"/account/addresses/{other.pk}/"
    assert client.get(base).status_code == 404
    assert client.post(base, {**VALID, "city": "Hijacked"}).status_code == 404
    assert client.post(f"{base}default/", {"kind": "shipping"}).status_code == 404
    assert client.post(f"{base}delete/").status_code == 404
    other.refresh_from_db()
    assert other.city == "Elsewhere"
    assert not other.is_default_shipping


def test_an_unconfirmed_account_cannot_save_addresses(client):
    client.force_login(ShopperFactory())
    response = client.post("/account/addresses/new/", VALID)
    assert response["Location"] == "/account/"
    assert not Address.objects.exists()


def test_the_address_list_queries_stay_few(
    client, shopper, warm_menu, django_assert_max_num_queries
):
    AddressFactory.create_batch(5, customer=shopper)
    # Session, user, customer, addresses, and the header's cart count.
    with django_assert_max_num_queries(5):
        assert client.get("/account/addresses/").status_code == 200
