"""Demo shipping, taxes, vouchers and a few weeks of orders placed through the services.

Idempotent: settings are found by name or code, and orders are placed only when there are
none yet. Demo orders count as already emailed, so no shopper mailbox fills up.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from catalog.models import Product, Variant
from customers.models import Customer, User
from inventory.selectors import availability
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEmail,
    OrderEvent,
    Payment,
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    TaxRate,
    Voucher,
)
from orders.services import (
    CartError,
    CheckoutError,
    cart_add,
    cart_checkout_update,
    cart_create,
    order_cancel,
    order_place,
    payment_status_set,
)

ZONES = [
    ("Europe", ["DE", "AT", "NL", "BE", "FR", "LU", "DK", "IT", "ES", "PL"]),
    ("United Kingdom", ["GB"]),
    ("United States", ["US"]),
]
TAXES = [
    ("DE", "", "19"),
    ("AT", "", "20"),
    ("NL", "", "21"),
    ("BE", "", "21"),
    ("FR", "", "20"),
    ("LU", "", "17"),
    ("DK", "", "25"),
    ("IT", "", "22"),
    ("ES", "", "21"),
    ("PL", "", "23"),
    ("GB", "", "20"),
    ("US", "CA", "7.25"),
    ("US", "NY", "4"),
]
CITIES = [
    ("DE", "Berlin", "10115"),
    ("DE", "Hamburg", "20095"),
    ("NL", "Utrecht", "3511 AB"),
    ("FR", "Lyon", "69001"),
    ("AT", "Wien", "1010"),
    ("GB", "Leeds", "LS1 4DY"),
    ("US", "San Francisco", "94103"),
]
ORDER_COUNT = 36


def seed(*, log: Callable[[str], object]) -> None:
    methods = _seed_settings()
    placed = 0 if Order.objects.exists() else _seed_orders(methods)
    log(
        f"orders: {ShippingZone.objects.count()} shipping zones, {TaxRate.objects.count()} tax "
        f"rates, {Voucher.objects.count()} vouchers, {placed} demo orders"
    )


def _seed_settings() -> dict[str, list[ShippingMethod]]:
    methods: dict[str, list[ShippingMethod]] = {}
    for name, countries in ZONES:
        zone, _ = ShippingZone.objects.get_or_create(name=name, defaults={"countries": countries})
        if name == "Europe":
            standard = _method(zone, "Standard", "4.90", free_above="60.00", days=(2, 4))
            express = _method(zone, "Express", "9.90", days=(1, 2), pricing="weight")
            if not express.rates.exists():
                ShippingRate.objects.create(method=express, threshold=2000, price="14.90")
                ShippingRate.objects.create(method=express, threshold=10000, price="24.90")
            found = [standard, express]
        elif name == "United Kingdom":
            found = [_method(zone, "Royal Mail Tracked", "7.50", days=(3, 5))]
        else:
            found = [_method(zone, "International", "19.00", free_above="150.00", days=(5, 9))]
        for country in countries:
            methods[country] = found
    for country, region, rate in TAXES:
        TaxRate.objects.get_or_create(
            country=country, region=region, defaults={"rate": Decimal(rate)}
        )
    now = timezone.now()
    for code, kind, value, extra in [
        ("WELCOME10", Voucher.Kind.PERCENTAGE, "10", {"per_customer_limit": 1}),
        ("FREESHIP", Voucher.Kind.FREE_SHIPPING, "0", {"min_subtotal": Decimal("30")}),
        ("TAKE5", Voucher.Kind.FIXED, "5", {"usage_limit": 100}),
        ("SUMMER25", Voucher.Kind.PERCENTAGE, "25", {"ends_at": now - timedelta(days=60)}),
    ]:
        Voucher.objects.get_or_create(
            code=code, defaults={"kind": kind, "value": Decimal(value), **extra}
        )
    return methods


def _method(zone, name, price, *, free_above=None, days=(2, 5), pricing="flat"):
    method, _ = ShippingMethod.objects.get_or_create(
        zone=zone,
        name=name,
        defaults={
            "price": Decimal(price),
            "free_above": Decimal(free_above) if free_above else None,
            "min_days": days[0],
            "max_days": days[1],
            "pricing": pricing,
        },
    )
    return method


def _seed_orders(methods: dict[str, list[ShippingMethod]]) -> int:
    rng = random.Random(5150)  # noqa: S311 - demo orders, not secrets
    shoppers = list(User.objects.filter(is_staff=False).order_by("pk")[:24])
    sellable = list(
        Variant.objects.filter(product__status=Product.Status.ACTIVE)
        .filter(Q(track_inventory=False) | Q(in_stock=True))
        .select_related("product")
        .order_by("pk")
    )
    free = availability(variant_ids=[variant.pk for variant in sellable])
    sellable = [v for v in sellable if not v.track_inventory or free.get(v.pk, 0) > 3]
    if not shoppers or not sellable:
        return 0
    now = timezone.now()
    placed = 0
    for index in range(ORDER_COUNT):
        shopper = rng.choice(shoppers)
        country, city, postal = rng.choice(CITIES)
        cart = cart_create()
        for variant in rng.sample(sellable, k=rng.choice([1, 1, 2, 3])):
            try:
                cart_add(cart=cart, variant_id=variant.pk, quantity=rng.choice([1, 1, 2]))
            except CartError:
                continue
        cart_checkout_update(
            cart=cart,
            email=shopper.email,
            shipping_address={
                "full_name": shopper.full_name,
                "company": "",
                "line1": f"{rng.randint(1, 120)} Market Street",
                "line2": "",
                "city": city,
                "region": "CA" if country == "US" else "",
                "postal_code": postal,
                "country": country,
                "phone": "",
            },
            shipping_method=rng.choice(methods[country]),
            payment_method=rng.choice(["bank_transfer", "bank_transfer", "cash_on_delivery"]),
        )
        try:
            order = order_place(cart=cart, ip_address=f"192.0.2.{index + 1}")
        except CheckoutError:
            continue
        # Demo orders were "emailed" long ago: claim every email so none goes out now.
        OrderEmail.objects.get_or_create(order=order, key="confirmation", defaults={"sent_at": now})
        payment = order.payments.get()
        OrderEmail.objects.get_or_create(
            order=order, key=f"payment_received:{payment.pk}", defaults={"sent_at": now}
        )
        OrderEmail.objects.get_or_create(order=order, key="cancelled", defaults={"sent_at": now})
        roll = rng.random()
        if roll < 0.7:
            payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED)
        elif roll < 0.8:
            order_cancel(order=order, reason="Changed their mind")
        # Spread over the last five weeks, oldest first (the newest half an hour ago); a paid
        # order was paid a few hours after it was placed (never later than now).
        placed_at = now - timedelta(days=35 - index, hours=rng.randint(0, 12), minutes=30)
        paid_at = min(
            placed_at + timedelta(hours=rng.randint(1, 6), minutes=rng.randint(0, 59)), now
        )
        Order.objects.filter(pk=order.pk).update(created_at=placed_at, updated_at=placed_at)
        Order.objects.filter(pk=order.pk, paid_at__isnull=False).update(paid_at=paid_at)
        payment.refresh_from_db(fields=["succeeded_at"])
        Payment.objects.filter(pk=payment.pk).update(
            created_at=placed_at,
            updated_at=placed_at,
            succeeded_at=paid_at if payment.succeeded_at else None,
        )
        OrderEvent.objects.filter(order=order).update(created_at=placed_at)
        # The cart was filled and checked out just before the order.
        Cart.objects.filter(pk=cart.pk).update(
            created_at=placed_at - timedelta(minutes=12),
            updated_at=placed_at,
            checkout_started_at=placed_at - timedelta(minutes=4),
            ordered_at=placed_at,
        )
        CartLine.objects.filter(cart=cart).update(added_at=placed_at - timedelta(minutes=10))
        placed += 1
    _customer_order_dates()
    return placed


def _customer_order_dates() -> None:
    """Customers' first and last order dates from their (back-dated) orders: one UPDATE."""
    kept = Order.objects.filter(customer=OuterRef("pk")).exclude(status=Order.Status.CANCELLED)
    Customer.objects.filter(orders__isnull=False).distinct().update(
        first_order_at=Subquery(
            kept.order_by().values("customer").annotate(at=Min("created_at")).values("at")
        ),
        last_order_at=Subquery(
            kept.order_by().values("customer").annotate(at=Max("created_at")).values("at")
        ),
    )
