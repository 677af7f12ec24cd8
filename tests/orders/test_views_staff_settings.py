"""Store settings in the orders dashboard: shipping zones, methods and rates, tax rates,
vouchers. Owners and Managers change them; Support, Warehouse and Marketing do not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orders.models import ShippingMethod, ShippingRate, ShippingZone, TaxRate, Voucher
from orders.pricing import shipping_methods_for, tax_rate_for
from tests.factories import CategoryFactory, ProductFactory, StaffFactory
from tests.factories.orders import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    TaxRateFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db
BASE = "/dashboard/orders/settings/"


@pytest.fixture
def manager(roles, staff_login):
    return staff_login(StaffFactory(role="Manager"))


def pages() -> list[str]:
    zone = ShippingMethodFactory().zone
    method = zone.methods.get()
    return [
        BASE,
        f"{BASE}shipping/",
        f"{BASE}shipping/zones/{zone.pk}/",
        f"{BASE}shipping/methods/{method.pk}/",
        f"{BASE}taxes/",
        f"{BASE}taxes/{TaxRateFactory().pk}/",
        f"{BASE}vouchers/",
        f"{BASE}vouchers/new/",
        f"{BASE}vouchers/{VoucherFactory().pk}/",
    ]


def test_managers_open_every_settings_page(manager):
    for url in pages():
        response = manager.get(url, follow=True)
        assert response.status_code == 200, url


@pytest.mark.parametrize("role", ["Support", "Warehouse", "Marketing"])
def test_other_roles_get_403_on_every_settings_page(roles, staff_login, role):
    client = staff_login(StaffFactory(role=role))
    for url in pages():
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    assert ShippingZone.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client):
    for url in pages():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/")


def test_settings_tabs_show_only_to_those_who_may(roles, staff_login, manager):
    assert "Vouchers" in manager.get("/dashboard/orders/").text
    support = staff_login(StaffFactory(role="Support"), target_client=None)
    assert f'href="{BASE}vouchers/"' not in support.get("/dashboard/orders/").text


# --- Shipping --------------------------------------------------------------------------------


def test_add_a_zone_then_a_method_with_rates(manager):
    response = manager.post(f"{BASE}shipping/", {"name": "EU", "countries": "de, AT fr"})
    zone = ShippingZone.objects.get()
    assert response["Location"] == f"{BASE}shipping/zones/{zone.pk}/"
    assert zone.countries == ["AT", "DE", "FR"]

    response = manager.post(
        f"{BASE}shipping/zones/{zone.pk}/",
        {
            "action": "add-method",
            "method-name": "Parcel",
            "method-pricing": "weight",
            "method-price": "4.90",
            "method-free_above": "80",
            "method-min_days": "2",
            "method-max_days": "4",
            "method-is_active": "on",
            "method-position": "0",
        },
    )
    method = ShippingMethod.objects.get()
    assert response["Location"] == f"{BASE}shipping/methods/{method.pk}/"

    data = {
        "name": "Parcel",
        "pricing": "weight",
        "price": "4.90",
        "free_above": "80",
        "min_days": "2",
        "max_days": "4",
        "is_active": "on",
        "position": "0",
        "rates-TOTAL_FORMS": "2",
        "rates-INITIAL_FORMS": "0",
        "rates-0-threshold": "1000",
        "rates-0-price": "6.90",
        "rates-1-threshold": "5000",
        "rates-1-price": "9.90",
    }
    response = manager.post(f"{BASE}shipping/methods/{method.pk}/", data)
    assert response.status_code == 302
    assert list(method.rates.values_list("threshold", "price")) == [
        (Decimal("1000.00"), Decimal("6.90")),
        (Decimal("5000.00"), Decimal("9.90")),
    ]
    assert method in shipping_methods_for(country="DE")
    page = manager.get(f"{BASE}shipping/").text
    assert "free from 80.00" in page
    assert "2 rates" in page


@pytest.mark.parametrize(
    ("countries", "message"),
    [
        ("DE, XX", "Not country codes: XX."),
        ("Germany", "Not country codes: Germany."),
        ("", "This field is required."),
        ("CH", "Already in another zone: CH (in Alps)."),
    ],
)
def test_bad_zones_explain_and_write_nothing(manager, countries, message):
    ShippingZoneFactory(name="Alps", countries=["CH"])
    response = manager.post(f"{BASE}shipping/", {"name": "EU", "countries": countries})
    assert response.status_code == 400
    assert message in response.text
    assert ShippingZone.objects.count() == 1


def test_a_zone_keeps_its_own_countries_when_edited(manager):
    zone = ShippingZoneFactory(name="EU", countries=["DE"])
    response = manager.post(
        f"{BASE}shipping/zones/{zone.pk}/", {"name": "Europe", "countries": "DE AT"}
    )
    assert response.status_code == 302
    zone.refresh_from_db()
    assert (zone.name, zone.countries) == ("Europe", ["AT", "DE"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_days": "1"}, "At most must not be below at least."),
        ({"price": "-1"}, "Enter an amount of 0 or more."),
        ({"rates-0-price": "-2"}, "Enter 0 or more."),
        ({"rates-1-threshold": "1000"}, "Please correct the duplicate data for threshold."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_methods_explain_and_write_nothing(manager, changes, message):
    method = ShippingMethodFactory(name="Parcel", price=Decimal("4.90"))
    data = {
        "name": "Parcel renamed",
        "pricing": "weight",
        "price": "5.00",
        "min_days": "2",
        "max_days": "4",
        "position": "0",
        "rates-TOTAL_FORMS": "2",
        "rates-INITIAL_FORMS": "0",
        "rates-0-threshold": "1000",
        "rates-0-price": "6.90",
        "rates-1-threshold": "2000",
        "rates-1-price": "7.90",
        **changes,
    }
    response = manager.post(f"{BASE}shipping/methods/{method.pk}/", data)
    assert response.status_code == 400
    assert message in response.text
    method.refresh_from_db()
    assert (method.name, method.price) == ("Parcel", Decimal("4.90"))
    assert not ShippingRate.objects.exists()


def test_delete_a_method_and_a_zone(manager):
    method = ShippingMethodFactory()
    zone = method.zone
    manager.post(f"{BASE}shipping/methods/{method.pk}/", {"action": "delete"})
    assert not ShippingMethod.objects.exists()
    manager.post(f"{BASE}shipping/zones/{zone.pk}/", {"action": "delete"})
    assert not ShippingZone.objects.exists()


# --- Taxes -----------------------------------------------------------------------------------


def test_add_and_edit_tax_rates(manager):
    response = manager.post(
        f"{BASE}taxes/", {"country": "de", "region": "", "name": "VAT", "rate": "19"}
    )
    assert response.status_code == 302
    manager.post(
        f"{BASE}taxes/", {"country": "US", "region": "NY", "name": "Sales tax", "rate": "8.875"}
    )
    assert tax_rate_for(country="DE") == Decimal("19.000")
    assert tax_rate_for(country="US", region="NY") == Decimal("8.875")
    rate = TaxRate.objects.get(country="DE")
    manager.post(
        f"{BASE}taxes/{rate.pk}/", {"country": "DE", "region": "", "name": "VAT", "rate": "7"}
    )
    assert tax_rate_for(country="DE") == Decimal("7.000")
    page = manager.get(f"{BASE}taxes/").text
    assert "8.875 %" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"country": "XX", "rate": "10"}, "XX is not a country code"),
        ({"country": "DE", "rate": "101"}, "A rate is a percentage from 0 to 100."),
        ({"country": "DE", "rate": "-1"}, "A rate is a percentage from 0 to 100."),
        ({"country": "de", "region": "", "rate": "7"}, "DE already has a rate; edit that one."),
        ({"country": "US", "region": "ny", "rate": "7"}, "US-ny already has a rate"),
    ],
)
def test_bad_tax_rates_explain_and_write_nothing(manager, data, message):
    TaxRateFactory(country="DE", rate=Decimal("19"))
    TaxRateFactory(country="US", region="NY", rate=Decimal("8"))
    response = manager.post(f"{BASE}taxes/", {"name": "VAT", "region": "", **data})
    assert response.status_code == 400
    assert message in response.text
    assert TaxRate.objects.count() == 2


def test_delete_a_tax_rate(manager):
    rate = TaxRateFactory()
    manager.post(f"{BASE}taxes/{rate.pk}/", {"action": "delete"})
    assert not TaxRate.objects.exists()


# --- Vouchers --------------------------------------------------------------------------------


def voucher_data(**changes) -> dict:
    return {
        "code": "spring10",
        "kind": "percentage",
        "value": "10",
        "min_subtotal": "",
        "starts_at": "",
        "ends_at": "",
        "usage_limit": "",
        "per_customer_limit": "",
        "is_active": "on",
        "note": "",
        **changes,
    }


def test_create_a_voucher_limited_to_products_and_categories(manager):
    product, category = ProductFactory(), CategoryFactory()
    response = manager.post(
        f"{BASE}vouchers/new/",
        voucher_data(
            starts_at="2026-03-01T09:00",
            ends_at="2026-03-31T23:59",
            usage_limit="100",
            per_customer_limit="1",
            min_subtotal="50",
            products=[product.pk],
            categories=[category.pk],
        ),
    )
    assert response["Location"] == f"{BASE}vouchers/"
    voucher = Voucher.objects.get()
    assert voucher.code == "SPRING10"
    assert (voucher.usage_limit, voucher.per_customer_limit) == (100, 1)
    assert list(voucher.products.all()) == [product]
    assert list(voucher.categories.all()) == [category]
    page = manager.get(f"{BASE}vouchers/").text
    assert "SPRING10" in page
    assert "0 / 100" in page
    assert "1 product, 1 category" in page


def test_edit_a_voucher_keeps_its_own_code(manager):
    voucher = VoucherFactory(code="SUMMER", value=Decimal("5"))
    response = manager.post(
        f"{BASE}vouchers/{voucher.pk}/", voucher_data(code="summer", value="15")
    )
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.value == Decimal("15")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "120"}, "A percentage cannot be over 100."),
        ({"value": "-5", "kind": "fixed"}, "Enter 0 or more."),
        ({"value": "0"}, "Enter how much the voucher takes off."),
        (
            {"starts_at": "2026-03-31T00:00", "ends_at": "2026-03-01T00:00"},
            "The end is before the start.",
        ),
        ({"code": "taken"}, "The code TAKEN is already taken."),
        ({"code": "two words"}, "A code is one word without spaces."),
        ({"code": ""}, "This field is required."),
        ({"kind": "bogus"}, "Select a valid choice."),
        ({"usage_limit": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bad_vouchers_explain_and_write_nothing(manager, changes, message):
    VoucherFactory(code="Taken")
    response = manager.post(f"{BASE}vouchers/new/", voucher_data(**changes))
    assert response.status_code == 400
    assert message in response.text
    assert Voucher.objects.count() == 1


def test_usage_limit_cannot_go_below_uses(manager):
    voucher = VoucherFactory(code="USED", times_used=5)
    response = manager.post(
        f"{BASE}vouchers/{voucher.pk}/", voucher_data(code="USED", usage_limit="3")
    )
    assert response.status_code == 400
    assert "It has already been used 5 times." in response.text
    voucher.refresh_from_db()
    assert voucher.usage_limit is None


def test_free_shipping_voucher_needs_no_value(manager):
    response = manager.post(f"{BASE}vouchers/new/", voucher_data(kind="free_shipping", value="0"))
    assert response.status_code == 302
    assert Voucher.objects.get().kind == Voucher.Kind.FREE_SHIPPING


def test_voucher_dates_are_aware(manager):
    manager.post(f"{BASE}vouchers/new/", voucher_data(starts_at="2026-03-01T09:00"))
    assert Voucher.objects.get().starts_at.tzinfo is not None
    assert isinstance(Voucher.objects.get().starts_at, dt.datetime)


# --- htmx: a form with errors swaps itself; a saved one redirects the page -------------------


HX = {"HX-Request": "true"}


def test_htmx_zone_form_errors_swap_only_the_form(manager):
    response = manager.post(f"{BASE}shipping/", {"name": "EU", "countries": "XX"}, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<form id="zone-form"')
    assert "Not country codes: XX." in response.text
    assert not ShippingZone.objects.exists()


def test_htmx_saved_form_redirects_the_whole_page(manager):
    response = manager.post(
        f"{BASE}taxes/", {"country": "DE", "name": "VAT", "rate": "19"}, headers=HX
    )
    assert response["HX-Redirect"] == f"{BASE}taxes/"
    assert TaxRate.objects.get().rate == Decimal("19")


@pytest.mark.parametrize(
    ("path", "data", "region", "message"),
    [
        ("taxes/", {"country": "DE", "rate": "200"}, "tax-form", "A rate is a percentage"),
        ("vouchers/new/", voucher_data(value="150"), "voucher-form", "cannot be over 100"),
    ],
)
def test_htmx_form_regions_with_errors(manager, path, data, region, message):
    response = manager.post(f"{BASE}{path}", data, headers=HX)
    assert response.text.lstrip().startswith(f'<form id="{region}"')
    assert message in response.text
    assert not TaxRate.objects.exists()
    assert not Voucher.objects.exists()


def test_htmx_method_and_zone_regions_on_the_zone_page(manager):
    zone = ShippingZoneFactory()
    method = ShippingMethodFactory(zone=zone)
    response = manager.post(
        f"{BASE}shipping/zones/{zone.pk}/",
        {"action": "add-method", "method-name": "", "method-pricing": "flat"},
        headers=HX,
    )
    assert response.text.lstrip().startswith('<form id="method-form"')
    response = manager.post(
        f"{BASE}shipping/zones/{zone.pk}/", {"name": "", "countries": "DE"}, headers=HX
    )
    assert response.text.lstrip().startswith('<form id="zone-form"')
    response = manager.post(f"{BASE}shipping/methods/{method.pk}/", {"name": ""}, headers=HX)
    assert response.text.lstrip().startswith('<form id="method-form"')
    assert ShippingMethod.objects.count() == 1
