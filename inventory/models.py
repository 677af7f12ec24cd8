"""Stock: where it is, how much, who holds it, and the ledger of every change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class InventoryAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the inventory dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_inventory", "Can open the inventory dashboard")]


class Warehouse(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    address = models.TextField(blank=True)
    # Lower ships first when several warehouses could fill an order.
    priority = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class StockLevel(models.Model):
    """One variant in one warehouse. Changed only by inventory.services."""

    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="stock")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(default=0)
    # Promised to placed orders, still on the shelf until shipped.
    allocated = models.IntegerField(default=0)
    bin_location = models.CharField(max_length=40, blank=True)
    reorder_point = models.PositiveIntegerField(default=0)
    safety_stock = models.PositiveIntegerField(default=0)
    reorder_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["warehouse__priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "warehouse"], name="stock_variant_warehouse"
            ),
            # Backstops: the services never let these happen.
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")), name="stock_allocated_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} @ {self.warehouse_id}: {self.on_hand}"


class StockMovement(models.Model):
    """The append-only ledger: every change of on-hand quantity, with its reason and author."""

    class Reason(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SALE = "sale", "Sale"
        RETURN = "return", "Return"
        ADJUSTMENT = "adjustment", "Adjustment"
        COUNT = "count", "Count"
        TRANSFER_IN = "transfer_in", "Transfer in"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        DAMAGE = "damage", "Damage"

    stock = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="movements")
    delta = models.IntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # What caused it: "order:1042", "purchase_order:17", "count:3", "transfer:5".
    reference = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=200, blank=True)
    quantity_after = models.IntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["stock", "-created_at"]),
            models.Index(fields=["reason", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="movement_delta_not_zero"),
            models.CheckConstraint(
                condition=Q(quantity_after__gte=0), name="movement_after_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.delta:+d} → {self.quantity_after}"


class Reservation(models.Model):
    """Units held for a cart until it is ordered, emptied or the hold expires."""

    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.CASCADE, related_name="reservations"
    )
    # The cart's key: carts live in the orders app, which this layer does not import.
    cart_key = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cart_key", "variant"], name="reservation_cart_variant"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["variant", "expires_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id} for {self.cart_key}"


class Allocation(models.Model):
    """Units of a placed order promised from one warehouse, until shipped or released."""

    stock = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="allocations")
    # "order:1042"; the orders app above this one keeps its own id here.
    reference = models.CharField(max_length=60)
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "stock"], name="allocation_reference_stock"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.stock_id} for {self.reference}"


class StockAlert(models.Model):
    """Stock at or below its reorder point: opened once per crossing, closed when it recovers."""

    stock = models.ForeignKey(StockLevel, on_delete=models.CASCADE, related_name="alerts")
    opened_at = models.DateTimeField(default=timezone.now)
    available_at_open = models.IntegerField()
    suggested_quantity = models.PositiveIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set when a digest run claims the alert, before the email goes: a redelivered run
    # finds nothing left to send.
    notified_at = models.DateTimeField(null=True, blank=True)
    digest_run = models.CharField(max_length=32, blank=True)
    # The purchase order "reorder" drafted for it: while that order is open, pressing
    # reorder again does not order the same shortfall twice.
    purchase_order = models.ForeignKey(
        "PurchaseOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # One open alert per stock row: a crossing, not a sale, makes an alert.
            models.UniqueConstraint(
                fields=["stock"], condition=Q(resolved_at__isnull=True), name="one_open_alert"
            )
        ]

    def __str__(self) -> str:
        return f"Low stock: {self.stock}"


class StockAlertDigest(models.Model):
    """One low-stock digest: claimed (with its alerts) before the email goes, stamped when
    it went. A claim left unsent past the resend timeout is a worker that died mid-send: a
    later run sends it again, under the same Message-ID (at least once, recognisably)."""

    run = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker took it to send; empty when a failed send gave it back for a retry.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["claimed_at"], condition=Q(sent_at__isnull=True), name="digest_unsent"
            )
        ]

    def __str__(self) -> str:
        return f"Digest {self.run} ({'sent' if self.sent_at else 'unsent'})"


MONEY = {"max_digits": 12, "decimal_places": 2}


class Supplier(models.Model):
    name = models.CharField(max_length=120)
    contact_name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    lead_time_days = models.PositiveIntegerField(default=14)
    minimum_order = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    payment_terms = models.CharField(max_length=120, blank=True, help_text="e.g. 30 days net")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierItem(models.Model):
    """What a supplier sells us: a variant, under their SKU, at their price."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.CASCADE, related_name="supplier_items"
    )
    supplier_sku = models.CharField(max_length=64, blank=True)
    unit_cost = models.DecimalField(**MONEY)
    is_preferred = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supplier", "variant"], name="supplier_item_unique"),
            # Reordering groups by the preferred supplier: at most one per variant.
            models.UniqueConstraint(
                fields=["variant"], condition=Q(is_preferred=True), name="one_preferred_supplier"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="supplier_item_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.supplier_sku or self.variant_id}"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, default="EUR")
    expected_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expected_on"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_overdue(self) -> bool:
        open_ = self.status in (self.Status.SENT, self.Status.PARTIALLY_RECEIVED)
        return bool(open_ and self.expected_on and self.expected_on < timezone.localdate())


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    quantity_ordered = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "variant"], name="po_line_variant"),
            models.CheckConstraint(
                condition=Q(quantity_ordered__gt=0), name="po_line_quantity_positive"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_line_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_ordered} x {self.variant_id}"

    @property
    def outstanding(self) -> int:
        return max(self.quantity_ordered - self.quantity_received, 0)


class PurchaseOrderEvent(models.Model):
    """The timeline of a purchase order: every status change, who made it and when."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.purchase_order}: {self.from_status or 'new'} -> {self.to_status}"


class CycleCount(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Counting"
        APPROVED = "approved", "Approved"
        CANCELLED = "cancelled", "Cancelled"

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="counts")
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bin_from = models.CharField(max_length=40, blank=True)
    bin_to = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Count {self.pk} of {self.warehouse.code}"


class CycleCountLine(models.Model):
    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    stock = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="+")
    # On hand when the count started; approval applies (counted - expected), so sales
    # recorded while people count are not mistaken for losses.
    expected = models.IntegerField()
    counted = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["stock__bin_location", "pk"]
        constraints = [models.UniqueConstraint(fields=["count", "stock"], name="count_line_unique")]

    def __str__(self) -> str:
        return f"{self.stock}: {self.counted} of {self.expected}"

    @property
    def variance(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


class SalesChannel(models.Model):
    """Another place the stock is sold (a marketplace, a POS): reads the feed, gets webhooks."""

    name = models.CharField(max_length=80, unique=True)
    # SHA-256 of the feed token; the token itself is shown once, when made.
    token_hash = models.CharField(max_length=64, unique=True)
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One availability change told to one channel; the log of its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.channel}: {self.event_id} ({self.status})"
