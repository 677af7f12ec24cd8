"""Demo carriers with rate tables, and a few weeks of shipped (and mostly delivered) demo
orders so the delivery report has something to show.

Idempotent: carriers are found by code; parcels are made only when there are none yet.
Demo parcels count as already emailed, so no shopper mailbox fills up.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fulfillment.carriers import order_promised_by, proposed, service_options
from fulfillment.models import (
    Carrier,
    CarrierRate,
    CarrierService,
    FulfillmentEmail,
    ReturnRequest,
    Shipment,
)
from fulfillment.returns import (
    ReturnError,
    return_decide,
    return_receive,
    return_refund,
    return_request_create,
)
from fulfillment.selectors import packable_lines
from fulfillment.services import ShipmentError, shipment_scan, shipment_ship, shipment_transition
from inventory.models import Allocation, Warehouse
from orders.models import Order, ShippingZone

# code, name, [(service code, name, min days, max days, base price, tracking URL)]
CARRIERS = [
    (
        "parcelpost",
        "ParcelPost",
        [
            ("standard", "Standard", 2, 3, "4.90", "https://track.parcelpost.example/{tracking}"),
            ("express", "Express", 1, 1, "11.50", "https://track.parcelpost.example/{tracking}"),
        ],
    ),
    (
        "swift",
        "Swift Couriers",
        [("economy", "Economy", 3, 5, "3.60", "https://swift.example/t?n={tracking}")],
    ),
]
# Weight steps (grams) and how each multiplies the base price; farther zones cost more.
STEPS = [(2000, Decimal("1")), (5000, Decimal("1.6")), (20000, Decimal("2.8"))]
ZONE_FACTOR = {"Europe": Decimal("1"), "United Kingdom": Decimal("1.8")}


def seed(*, log: Callable[[str], object]) -> None:
    services = _seed_carriers()
    shipped = _seed_shipments() if services else 0
    returns = _seed_returns() if shipped else 0
    log(
        f"fulfillment: {len(CARRIERS)} carriers, {services} services, {shipped} demo parcels, "
        f"{returns} returns"
    )


def _seed_carriers() -> int:
    zones = list(ShippingZone.objects.all())
    count = 0
    for code, name, services in CARRIERS:
        carrier, _ = Carrier.objects.get_or_create(code=code, defaults={"name": name})
        for service_code, service_name, low, high, base, url in services:
            service, _ = CarrierService.objects.get_or_create(
                carrier=carrier,
                code=service_code,
                defaults={
                    "name": service_name,
                    "transit_days_min": low,
                    "transit_days_max": high,
                    "tracking_url_template": url,
                },
            )
            count += 1
            for zone in zones:
                factor = ZONE_FACTOR.get(zone.name, Decimal("2.6"))
                for grams, step in STEPS:
                    CarrierRate.objects.get_or_create(
                        service=service,
                        zone=zone,
                        max_weight_grams=grams,
                        defaults={
                            "price": (Decimal(base) * step * factor).quantize(Decimal("0.01"))
                        },
                    )
    return count


def _seed_shipments() -> int:
    """Ship the older two thirds of the paid demo orders, back-dated: packed and shipped a
    few hours to a day after payment, delivered within (or now and then after) the
    promise."""
    if Shipment.objects.exists():
        return 0
    rng = random.Random(6)  # noqa: S311 - demo timings
    orders = list(
        Order.objects.filter(status=Order.Status.PAID).select_related("shipping_method__zone")
    )
    orders.sort(key=lambda order: order.created_at)
    now = timezone.now()
    shipped = 0
    for order in orders[: len(orders) * 2 // 3]:
        allocation = (
            Allocation.objects.filter(reference=f"order:{order.number}")
            .select_related("stock__warehouse")
            .first()
        )
        warehouse = allocation.stock.warehouse if allocation else Warehouse.objects.first()
        # The orders demo back-dates paid_at (a few hours after the order was placed).
        paid_at = order.paid_at or order.created_at
        try:
            with transaction.atomic():
                shipment = None
                for row in packable_lines(order=order, warehouse=warehouse):
                    shipment = shipment_scan(
                        order=order, warehouse=warehouse, code=row.line.sku, quantity=row.packable
                    ).shipment
                if shipment is None:
                    continue
                weight = sum(
                    row.line.weight_grams * row.packable
                    for row in packable_lines(order=order, warehouse=warehouse, shipment=shipment)
                )
                best = proposed(
                    service_options(order=order, weight_grams=weight, ship_date=paid_at.date())
                )
                if best is None:
                    raise ShipmentError("no service")
                shipment_ship(
                    shipment=shipment, service=best.service, tracking_number=f"DEMO{order.number}"
                )
                FulfillmentEmail.objects.get_or_create(
                    key=f"shipment:{shipment.pk}:shipped", defaults={"sent_at": now}
                )
                shipped_at = paid_at + timedelta(hours=rng.choice([2, 3, 5, 20, 26, 30]))
                transit = timedelta(
                    days=rng.choice(
                        [
                            best.service.transit_days_min,
                            best.service.transit_days_max,
                            best.service.transit_days_max + 2,
                        ]
                    ),
                    hours=rng.randint(0, 8),
                )
                delivered_at = shipped_at + transit
                Shipment.objects.filter(pk=shipment.pk).update(
                    shipped_at=shipped_at,
                    created_at=shipped_at,
                    promised_by=order_promised_by(order),
                )
                shipment.events.update(created_at=shipped_at)
                if delivered_at < now:
                    for key in ("delivered", "delayed"):
                        FulfillmentEmail.objects.get_or_create(
                            key=f"shipment:{shipment.pk}:{key}", defaults={"sent_at": now}
                        )
                    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
                    Shipment.objects.filter(pk=shipment.pk).update(delivered_at=delivered_at)
                    shipment.events.filter(to_status="delivered").update(created_at=delivered_at)
            shipped += 1
        except ShipmentError:
            continue
    return shipped


def _seed_returns() -> int:
    """Three returns on recently delivered demo parcels: one waiting for a decision, one
    approved, one received and refunded. Their emails count as sent."""
    if ReturnRequest.objects.exists():
        return 0
    now = timezone.now()
    delivered = (
        Shipment.objects.filter(status=Shipment.Status.DELIVERED, return_request__isnull=True)
        .select_related("order", "warehouse")
        .order_by("-delivered_at")[:3]
    )
    reasons = ["too_small", "damaged", "changed_mind"]
    made = 0
    for index, shipment in enumerate(delivered):
        line = shipment.lines.first()
        try:
            with transaction.atomic():
                ret = return_request_create(
                    order=shipment.order,
                    lines={line.order_line_id: 1},
                    reason=reasons[index],
                    comment="Demo return.",
                )
                for kind in ("requested", "approved", "rejected"):
                    FulfillmentEmail.objects.get_or_create(
                        key=f"return:{ret.pk}:{kind}", defaults={"sent_at": now}
                    )
                if index >= 1:
                    return_decide(return_request=ret, approve=True, message="Thanks, send it back.")
                if index == 2:
                    return_receive(
                        return_request=ret,
                        received={ret.lines.get().pk: (1, "restock")},
                        warehouse=shipment.warehouse,
                    )
        except ReturnError:
            continue
        if index == 2:
            from orders.models import OrderEmail

            # One transaction, so the refund email's claim exists before its task is sent.
            with transaction.atomic():
                refund = return_refund(return_request=ret)
                OrderEmail.objects.get_or_create(
                    order=ret.order, key=f"refund:{refund.pk}", defaults={"sent_at": now}
                )
        made += 1
    return made
