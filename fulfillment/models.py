"""Carriers and their rates, shipments and their tracking, returns and exchanges."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

MONEY = {"max_digits": 12, "decimal_places": 2}


class FulfillmentAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the fulfillment dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_fulfillment", "Can open the fulfillment dashboard")]


def _webhook_token() -> str:
    return secrets.token_urlsafe(32)


# --- Carriers --------------------------------------------------------------------------------


class Carrier(models.Model):
    class Backend(models.TextChoices):
        TABLE = "table", "Built-in rate table"

    class WebhookAuth(models.TextChoices):
        BEARER = "bearer", "Bearer token"
        HMAC = "hmac", "HMAC-SHA256 signature of the body"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    backend = models.CharField(max_length=20, choices=Backend.choices, default=Backend.TABLE)
    # The secret a carrier or tracking aggregator proves itself with when it calls our
    # tracking webhook: sent as a bearer token, or used as the HMAC key of the body.
    webhook_auth = models.CharField(
        max_length=10, choices=WebhookAuth.choices, default=WebhookAuth.BEARER
    )
    webhook_token = models.CharField(max_length=100, default=_webhook_token)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CarrierService(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="services")
    code = models.SlugField(max_length=30)
    name = models.CharField(max_length=100)
    # "https://track.example/?id={tracking}": {tracking} is replaced by the number.
    tracking_url_template = models.CharField(max_length=300, blank=True)
    # Promised transit, in days after handing the parcel over.
    transit_days_min = models.PositiveSmallIntegerField(default=1)
    transit_days_max = models.PositiveSmallIntegerField(default=3)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier__name", "transit_days_max", "name"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="carrier_service_code"),
            models.CheckConstraint(
                condition=Q(transit_days_max__gte=models.F("transit_days_min")),
                name="carrier_service_days_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.name} {self.name}"

    def tracking_url(self, number: str) -> str:
        if not (self.tracking_url_template and number):
            return ""
        return self.tracking_url_template.replace("{tracking}", number)


class CarrierRate(models.Model):
    """One step of a service's rate table: parcels to this zone up to `max_weight_grams`
    cost `price`. The lightest step that takes the parcel applies."""

    service = models.ForeignKey(CarrierService, on_delete=models.CASCADE, related_name="rates")
    zone = models.ForeignKey("orders.ShippingZone", on_delete=models.CASCADE, related_name="+")
    max_weight_grams = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering = ["service", "zone", "max_weight_grams"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "zone", "max_weight_grams"], name="carrier_rate_step"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="carrier_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service} to {self.zone_id} up to {self.max_weight_grams} g: {self.price}"


# --- Shipments -------------------------------------------------------------------------------


class Shipment(models.Model):
    class Status(models.TextChoices):
        READY = "ready", "Being packed"
        SHIPPED = "shipped", "Shipped"
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"
        EXCEPTION = "exception", "Delivery problem"
        RETURNED = "returned", "Returned to sender"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments"
    )
    # Set for the replacement parcel of an exchange: shipped at no charge, outside the
    # order's own lines.
    return_request = models.ForeignKey(
        "ReturnRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacements",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.READY)
    service = models.ForeignKey(
        CarrierService, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments"
    )
    tracking_number = models.CharField(max_length=60, blank=True)
    weight_grams = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    # The day the shopper was promised (order paid, cut-off, shipping method's days).
    promised_by = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "promised_by"]),
            models.Index(fields=["shipped_at"]),
            models.Index(fields=["tracking_number"]),
        ]
        constraints = [
            # One parcel being packed per order and warehouse: two packers share it.
            models.UniqueConstraint(
                fields=["order", "warehouse"],
                condition=Q(status="ready", return_request__isnull=True),
                name="one_open_pack_per_order_warehouse",
            ),
        ]

    def __str__(self) -> str:
        return f"Shipment {self.pk} of order {self.order_id}"

    @property
    def tracking_url(self) -> str:
        return self.service.tracking_url(self.tracking_number) if self.service else ""

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines.all())


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    # The order line shipped; empty for an exchange replacement (a variant not ordered).
    order_line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    variant = models.ForeignKey(
        "catalog.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    # Packed so far (scanned); what ships.
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "order_line"],
                condition=Q(order_line__isnull=False),
                name="shipment_line_once_per_order_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class ShipmentEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=300)
    # "staff", "webhook", "system".
    source = models.CharField(max_length=20, default="staff")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.message


# --- Returns ---------------------------------------------------------------------------------


class ReturnRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        RECEIVED = "received", "Received"
        REFUNDED = "refunded", "Refunded"
        EXCHANGED = "exchanged", "Exchanged"

    class Reason(models.TextChoices):
        TOO_SMALL = "too_small", "Too small"
        TOO_LARGE = "too_large", "Too large"
        DAMAGED = "damaged", "Arrived damaged"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        WRONG_ITEM = "wrong_item", "Wrong item sent"
        CHANGED_MIND = "changed_mind", "Changed my mind"
        OTHER = "other", "Other"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    comment = models.TextField(blank=True, max_length=1000)
    # What staff told the shopper when approving or rejecting.
    staff_message = models.TextField(blank=True, max_length=1000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refund = models.ForeignKey(
        "orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Exchange for a dearer variant: what the shopper still owes (staff collect it).
    amount_due = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"Return R{self.pk}"

    @property
    def number(self) -> str:
        return f"R{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.APPROVED, self.Status.RECEIVED)


class ReturnLine(models.Model):
    class Condition(models.TextChoices):
        RESTOCK = "restock", "Back into stock"
        DAMAGED = "damaged", "Written off (damaged)"

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    condition = models.CharField(max_length=10, choices=Condition.choices, blank=True)
    # The variant sent in exchange, if the shopper takes another instead of money.
    exchange_variant = models.ForeignKey(
        "catalog.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=models.F("quantity")),
                name="return_line_received_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line_id}"


class ReturnEvent(models.Model):
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.message


class FulfillmentEmail(models.Model):
    """Claims a shopper email before it is sent ("shipment:12:shipped", "return:3:requested"):
    a redelivered task or a second beat run sends nothing twice."""

    key = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key
