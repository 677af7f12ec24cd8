"""Fulfillment test data: a warehouse with binned stock, two carrier services with rates,
and paid orders placed through the orders services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fulfillment.models import Carrier, CarrierRate, CarrierService
from inventory.models import StockLevel
from orders.services import order_mark_paid, order_place
from tests.factories import ProductFactory, StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ShippingMethodFactory, ready_cart


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="main", name="Main warehouse")


@pytest.fixture
def method(db):
    return ShippingMethodFactory(name="Standard", min_days=2, max_days=4)


@pytest.fixture
def carrier(db, method):
    """Parcel Co: "Economy" (cheap, 6 days) and "Standard" (3 days) and "Express" (1 day)."""
    carrier = Carrier.objects.create(code="parcelco", name="Parcel Co", webhook_token="s3cret")
    services = {}
    for code, days, price in (
        ("economy", 6, "3.00"),
        ("standard", 3, "5.00"),
        ("express", 1, "12.00"),
    ):
        service = services[code] = CarrierService.objects.create(
            carrier=carrier,
            code=code,
            name=code.title(),
            tracking_url_template="https://track.parcelco.example/{tracking}",
            transit_days_min=1,
            transit_days_max=days,
        )
        CarrierRate.objects.create(
            service=service, zone=method.zone, max_weight_grams=2000, price=Decimal(price)
        )
        CarrierRate.objects.create(
            service=service, zone=method.zone, max_weight_grams=10000, price=Decimal(price) * 2
        )
    carrier.service = services
    return carrier


@pytest.fixture
def shelf(warehouse):
    """A shirt (two sizes) and a mug, in stock with bin locations."""
    product = ProductFactory(title="Linen Shirt")
    small = VariantFactory(
        product=product,
        sku="SHIRT-S",
        title="S",
        barcode="400000000001",
        price=Decimal("40.00"),
        weight_grams=300,
    )
    large = VariantFactory(
        product=product, sku="SHIRT-L", title="L", price=Decimal("45.00"), weight_grams=320
    )
    mug = VariantFactory(
        product=ProductFactory(title="Stoneware Mug"),
        sku="MUG-1",
        price=Decimal("12.00"),
        weight_grams=400,
    )
    for variant, quantity, where in ((small, 100, "B-02"), (large, 10, "B-03"), (mug, 100, "A-01")):
        stock(variant, warehouse, quantity)
        StockLevel.objects.filter(variant=variant, warehouse=warehouse).update(bin_location=where)
    return {"small": small, "large": large, "mug": mug}


@pytest.fixture
def make_order(shelf, method):
    def make(items=None, *, email="ada@example.net", user=None, paid=True):
        items = items or [(shelf["small"], 2), (shelf["mug"], 1)]
        order = order_place(
            cart=ready_cart(items, email=email, method=method, user=user), user=user
        )
        if paid:
            order_mark_paid(order=order, actor=StaffFactory())
        order.refresh_from_db()
        return order

    return make
