"""Storefront test data shared by the cart, checkout and order page tests."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from tests.factories import ProductFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory


def make_shop():
    """Two products with stock, one zone (DE, AT, FR) with a standard method, German VAT."""
    warehouse = WarehouseFactory()
    mug = VariantFactory(
        product=ProductFactory(title="Stoneware Mug", slug="mug"),
        sku="MUG-1",
        price=Decimal("12.00"),
    )
    lamp = VariantFactory(
        product=ProductFactory(title="Desk Lamp", slug="lamp"), sku="LAMP-1", price=Decimal("40.00")
    )
    stock(mug, warehouse, 5)
    stock(lamp, warehouse, 2)
    zone = ShippingZoneFactory(name="Europe", countries=["DE", "AT", "NL"])
    standard = ShippingMethodFactory(
        zone=zone, name="Standard", price=Decimal("4.90"), free_above=Decimal("100.00")
    )
    express = ShippingMethodFactory(zone=zone, name="Express", price=Decimal("9.90"), position=1)
    TaxRateFactory(country="DE", rate=Decimal("19"))

    return SimpleNamespace(
        warehouse=warehouse,
        mug=mug,
        lamp=lamp,
        standard=standard,
        express=express,
        zone=zone,
    )
