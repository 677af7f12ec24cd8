"""Carrier backends: what a parcel costs and how to track it, and which service to propose.

A backend answers for one carrier. The built-in one reads the rate table kept in the
database (CarrierRate); a real carrier API (label printing, live rates) is another class
with the same two methods, registered in BACKENDS under the carrier's `backend` code.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from fulfillment.models import Carrier, CarrierRate, CarrierService
from orders.models import Order, ShippingZone


class CarrierBackend(Protocol):
    def quote(
        self, *, service: CarrierService, zone: ShippingZone, weight_grams: int
    ) -> Decimal | None:
        """The price of one parcel, or None when the service does not take it."""

    def tracking_url(self, *, service: CarrierService, tracking_number: str) -> str:
        """Where the shopper follows the parcel."""


class TableRateBackend:
    """Rates from the carrier's table: the lightest step for the zone that takes the weight."""

    def quote(
        self, *, service: CarrierService, zone: ShippingZone, weight_grams: int
    ) -> Decimal | None:
        rates = getattr(service, "_rates", None)
        if rates is None:
            rates = list(service.rates.all())
        fitting = [
            rate.price
            for rate in rates
            if rate.zone_id == zone.pk and rate.max_weight_grams >= weight_grams
        ]
        return min(fitting) if fitting else None

    def tracking_url(self, *, service: CarrierService, tracking_number: str) -> str:
        return service.tracking_url(tracking_number)


BACKENDS: dict[str, CarrierBackend] = {Carrier.Backend.TABLE: TableRateBackend()}


def backend_for(carrier: Carrier) -> CarrierBackend:
    return BACKENDS[carrier.backend]


# --- The same-day cut-off and promises -------------------------------------------------------


def cutoff_time() -> datetime.time:
    hours, minutes = settings.FULFILLMENT_CUTOFF.split(":")
    return datetime.time(int(hours), int(minutes))


def ship_by(paid_at: datetime.datetime) -> datetime.date:
    """The day an order paid at `paid_at` should leave: that day when paid by the cut-off
    (store time), the next day when paid after it."""
    local = timezone.localtime(paid_at)
    if local.time() <= cutoff_time():
        return local.date()
    return local.date() + datetime.timedelta(days=1)


def order_promised_by(order: Order) -> datetime.date | None:
    """The latest delivery day the shopper was promised: ship-by day plus the shipping
    method's longest transit."""
    if order.paid_at is None:
        return None
    days = order.shipping_method.max_days if order.shipping_method else 5
    return ship_by(order.paid_at) + datetime.timedelta(days=days)


def zone_for(order: Order) -> ShippingZone | None:
    if order.shipping_method_id:
        return order.shipping_method.zone
    country = (order.shipping_address or {}).get("country", "").upper()
    return next((zone for zone in ShippingZone.objects.all() if country in zone.countries), None)


@dataclass(frozen=True)
class ServiceOption:
    service: CarrierService
    cost: Decimal
    delivers_by: datetime.date
    meets_promise: bool


def service_options(
    *, order: Order, weight_grams: int, ship_date: datetime.date | None = None
) -> list[ServiceOption]:
    """Every active service that takes this parcel to the order's zone, cheapest first;
    the proposal (see `proposed`) is the cheapest one that meets the promise."""
    zone = zone_for(order)
    if zone is None:
        return []
    ship_date = ship_date or timezone.localdate()
    promise = order_promised_by(order)
    services = list(
        CarrierService.objects.filter(is_active=True, carrier__is_active=True)
        .select_related("carrier")
        .order_by("pk")
    )
    rates: dict[int, list[CarrierRate]] = {}
    for rate in CarrierRate.objects.filter(zone=zone, service__in=services):
        rates.setdefault(rate.service_id, []).append(rate)
    options = []
    for service in services:
        service._rates = rates.get(service.pk, [])
        cost = backend_for(service.carrier).quote(
            service=service, zone=zone, weight_grams=weight_grams
        )
        if cost is None:
            continue
        delivers_by = ship_date + datetime.timedelta(days=service.transit_days_max)
        options.append(
            ServiceOption(
                service=service,
                cost=cost,
                delivers_by=delivers_by,
                meets_promise=promise is None or delivers_by <= promise,
            )
        )
    return sorted(options, key=lambda option: (option.cost, option.delivers_by))


def proposed(options: list[ServiceOption]) -> ServiceOption | None:
    """The cheapest option meeting the promise; when none can, the fastest."""
    meeting = [option for option in options if option.meets_promise]
    if meeting:
        return meeting[0]
    return min(options, key=lambda option: (option.delivers_by, option.cost), default=None)
