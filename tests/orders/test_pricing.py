"""Shipping, tax and every voucher rule, on hand-computed figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import ShippingMethod, ShippingRate, Voucher, VoucherRedemption
from orders.pricing import price_lines, shipping_methods_for, tax_rate_for
from orders.services import order_place
from tests.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import (
    ADDRESS,
    ShippingMethodFactory,
    ShippingZoneFactory,
    TaxRateFactory,
    VoucherFactory,
    ready_cart,
)

pytestmark = pytest.mark.django_db
D = Decimal


def totals(items, **kwargs):
    return price_lines(
        items=items, currency="EUR", address=kwargs.pop("address", ADDRESS), **kwargs
    )


@pytest.fixture
def shirt():
    return VariantFactory(price=D("20.00"), weight_grams=300)


@pytest.fixture
def mug():
    return VariantFactory(price=D("12.50"), weight_grams=500)


# --- Shipping --------------------------------------------------------------------------------


def test_flat_shipping_and_free_above_threshold(shirt):
    method = ShippingMethodFactory(price=D("4.90"), free_above=D("50.00"))
    assert totals([(shirt, 2)], shipping_method=method).shipping == D("4.90")
    free = totals([(shirt, 3)], shipping_method=method)
    assert free.shipping == D("0.00")
    assert free.free_shipping


def test_shipping_by_weight_takes_the_highest_step_reached(shirt, mug):
    method = ShippingMethodFactory(pricing=ShippingMethod.Pricing.WEIGHT, price=D("3.00"))
    ShippingRate.objects.create(method=method, threshold=D("1000"), price=D("6.00"))
    ShippingRate.objects.create(method=method, threshold=D("5000"), price=D("12.00"))
    assert totals([(shirt, 1)], shipping_method=method).shipping == D("3.00")  # 300 g
    assert totals([(mug, 2)], shipping_method=method).shipping == D("6.00")  # 1000 g
    assert totals([(mug, 10)], shipping_method=method).shipping == D("12.00")  # 5000 g


def test_shipping_by_order_value(shirt):
    method = ShippingMethodFactory(pricing=ShippingMethod.Pricing.VALUE, price=D("8.00"))
    ShippingRate.objects.create(method=method, threshold=D("40.00"), price=D("4.00"))
    assert totals([(shirt, 1)], shipping_method=method).shipping == D("8.00")
    assert totals([(shirt, 2)], shipping_method=method).shipping == D("4.00")


def test_methods_are_offered_only_in_their_zone_and_when_active():
    zone = ShippingZoneFactory(countries=["NL", "BE"])
    active = ShippingMethodFactory(zone=zone)
    ShippingMethodFactory(zone=zone, is_active=False)
    assert shipping_methods_for(country="nl") == [active]
    assert shipping_methods_for(country="US") == []


# --- Tax -------------------------------------------------------------------------------------


def test_region_rate_wins_over_the_country_rate():
    TaxRateFactory(country="US", region="", rate=D("0"))
    TaxRateFactory(country="US", region="CA", rate=D("7.25"))
    assert tax_rate_for(country="US", region="ca") == D("7.25")
    assert tax_rate_for(country="US", region="OR") == D("0")
    assert tax_rate_for(country="FR") == D("0")


def test_prices_including_tax_extract_it(shirt):
    TaxRateFactory(country="DE", rate=D("19"))
    method = ShippingMethodFactory(price=D("5.95"))
    result = totals([(shirt, 1)], shipping_method=method)
    # 20.00 * 19/119 = 3.193 -> 3.19; 5.95 * 19/119 = 0.95
    assert result.tax == D("3.19") + D("0.95")
    assert result.total == D("25.95")


def test_prices_excluding_tax_add_it(shirt, settings):
    settings.PRICES_INCLUDE_TAX = False
    TaxRateFactory(country="US", region="CA", rate=D("7.25"))
    address = {**ADDRESS, "country": "US", "region": "CA"}
    method = ShippingMethodFactory(zone=ShippingZoneFactory(countries=["US"]), price=D("10.00"))
    result = totals([(shirt, 3)], shipping_method=method, address=address)
    # 60.00 * 7.25 % = 4.35; 10.00 * 7.25 % = 0.725 -> 0.73
    assert result.tax == D("4.35") + D("0.73")
    assert result.total == D("60.00") + D("10.00") + D("5.08")


# --- Vouchers --------------------------------------------------------------------------------


def test_percentage_voucher_discounts_every_line(shirt, mug):
    voucher = VoucherFactory(kind=Voucher.Kind.PERCENTAGE, value=D("10"))
    result = totals([(shirt, 1), (mug, 2)], voucher=voucher)
    assert result.discount == D("2.00") + D("2.50")
    assert result.total == D("40.50")


def test_fixed_voucher_is_spread_over_lines_and_never_exceeds_them(shirt, mug):
    voucher = VoucherFactory(kind=Voucher.Kind.FIXED, value=D("10.00"))
    result = totals([(shirt, 1), (mug, 2)], voucher=voucher)  # 20 + 25
    assert [line.discount for line in result.lines] == [D("4.44"), D("5.56")]
    big = VoucherFactory(kind=Voucher.Kind.FIXED, value=D("500"))
    assert totals([(shirt, 1)], voucher=big).total == D("0.00")


def test_free_shipping_voucher(shirt):
    voucher = VoucherFactory(kind=Voucher.Kind.FREE_SHIPPING, value=0)
    method = ShippingMethodFactory(price=D("4.90"))
    assert totals([(shirt, 1)], voucher=voucher, shipping_method=method).shipping == D("0.00")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"is_active": False}, "no longer valid"),
        ({"starts_at": timezone.now() + timedelta(days=1)}, "not valid yet"),
        ({"ends_at": timezone.now() - timedelta(minutes=1)}, "has expired"),
        ({"usage_limit": 2, "times_used": 2}, "used up"),
        ({"min_subtotal": D("50.00")}, "at least 50.00 EUR; add 30.00 more"),
    ],
)
def test_a_voucher_that_does_not_apply_says_why_and_discounts_nothing(shirt, fields, reason):
    voucher = VoucherFactory(**fields)
    result = totals([(shirt, 1)], voucher=voucher)
    assert reason in result.voucher_problem
    assert result.discount == 0


def test_per_customer_limit_counts_this_email_only(shirt):
    voucher = VoucherFactory(per_customer_limit=1)
    warehouse = WarehouseFactory()
    stock(shirt, warehouse, 5)
    order = order_place(cart=ready_cart([(shirt, 1)], email="ada@example.net"))
    VoucherRedemption.objects.create(voucher=voucher, order=order, email="ada@example.net")
    again = totals([(shirt, 1)], voucher=voucher, email="ADA@example.net")
    assert "already used" in again.voucher_problem
    assert totals([(shirt, 1)], voucher=voucher, email="bob@example.net").discount > 0


def test_voucher_limited_to_a_category_discounts_only_its_products(shirt):
    clothes = CategoryFactory(name="Clothes")
    tees = CategoryFactory(name="Tees", parent=clothes)
    tee = VariantFactory(product=ProductFactory(category=tees), price=D("10.00"))
    voucher = VoucherFactory(value=D("50"))
    voucher.categories.add(clothes)
    result = totals([(shirt, 1), (tee, 1)], voucher=voucher)
    assert [line.discount for line in result.lines] == [D("0"), D("5.00")]
    assert "does not apply" in totals([(shirt, 1)], voucher=voucher).voucher_problem


def test_voucher_limited_to_products(shirt, mug):
    voucher = VoucherFactory(value=D("10"))
    voucher.products.add(mug.product)
    result = totals([(shirt, 1), (mug, 1)], voucher=voucher)
    assert result.discount == D("1.25")
