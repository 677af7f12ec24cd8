"""Orders test data: a shipping zone with a method, tax rates, and a cart ready to place."""

from __future__ import annotations

from decimal import Decimal

import factory

from orders.models import ShippingMethod, ShippingZone, TaxRate, Voucher
from orders.services import cart_add, cart_checkout_update, cart_create

ADDRESS = {
    "full_name": "Ada Lovelace",
    "company": "",
    "line1": "12 Analytical Street",
    "line2": "",
    "city": "Berlin",
    "region": "",
    "postal_code": "10115",
    "country": "DE",
    "phone": "",
}


class ShippingZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingZone

    name = factory.Sequence(lambda n: f"Zone {n}")
    countries = factory.LazyFunction(lambda: ["DE", "AT", "FR"])


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    zone = factory.SubFactory(ShippingZoneFactory)
    name = factory.Sequence(lambda n: f"Standard {n}")
    price = Decimal("4.90")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    rate = Decimal("19.000")


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = Voucher.Kind.PERCENTAGE
    value = Decimal("10")


def ready_cart(
    items,
    *,
    email: str = "ada@example.net",
    method: ShippingMethod | None = None,
    payment: str = "bank_transfer",
    address: dict | None = None,
    user=None,
):
    """A cart holding `items` [(variant, quantity)], with email, address, shipping and
    payment chosen: what order_place needs."""
    cart = cart_create(user=user)
    for variant, quantity in items:
        cart_add(cart=cart, variant_id=variant.pk, quantity=quantity)
    cart_checkout_update(
        cart=cart,
        email=email,
        shipping_address=address or dict(ADDRESS),
        shipping_method=method or ShippingMethodFactory(),
        payment_method=payment,
    )
    return cart
