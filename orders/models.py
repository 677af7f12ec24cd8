"""Carts, orders and their timeline, payments, refunds, disputes, shipping, taxes, vouchers."""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class OrdersAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the orders dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_orders", "Can open the orders dashboard")]


# --- Shipping, taxes, vouchers ---------------------------------------------------------------


class ShippingZone(models.Model):
    """Countries that share shipping methods. A country belongs to one zone at most."""

    name = models.CharField(max_length=100)
    # ISO 3166-1 alpha-2 codes, upper case, e.g. ["DE", "AT"].
    countries = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ShippingMethod(models.Model):
    class Pricing(models.TextChoices):
        FLAT = "flat", "Flat price"
        WEIGHT = "weight", "By weight"
        VALUE = "value", "By order value"

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    pricing = models.CharField(max_length=10, choices=Pricing.choices, default=Pricing.FLAT)
    # Flat: the price. By weight or value: the price below the first rate's threshold.
    price = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    # Free when the subtotal after discounts reaches this; empty: never free.
    free_above = models.DecimalField(**MONEY, null=True, blank=True)
    # Promised transit, shown to the shopper ("2-4 business days").
    min_days = models.PositiveSmallIntegerField(default=2)
    max_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "price", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_price_not_negative"),
            models.CheckConstraint(
                condition=Q(max_days__gte=F("min_days")), name="shipping_days_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"


class ShippingRate(models.Model):
    """A step of a by-weight or by-value method: from `threshold` (grams or money) on, this
    price. The highest threshold not above the cart's weight or value applies."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    threshold = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["method", "threshold"], name="shipping_rate_unique"),
            models.CheckConstraint(
                condition=Q(threshold__gte=0, price__gte=0), name="shipping_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"from {self.threshold}: {self.price}"


class TaxRate(models.Model):
    """A rate for a country, or for one region of it (a region rate wins over the country's)."""

    country = models.CharField(max_length=2)
    region = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=60, default="VAT")
    # Percent: 19.000 is 19 %.
    rate = models.DecimalField(max_digits=6, decimal_places=3)

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(
                "country", Lower("region"), name="tax_rate_country_region_unique"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="tax_rate_percent"
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{self.name} {self.rate}% ({where})"


class Voucher(models.Model):
    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    code = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Percent for PERCENTAGE, money for FIXED, unused for FREE_SHIPPING.
    value = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    min_subtotal = models.DecimalField(**MONEY, null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    # Counted by order placement under a row lock, so a limit of 100 means 100.
    times_used = models.PositiveIntegerField(default=0)
    # Empty on both: the whole cart. Otherwise only lines of these products or categories
    # (and their subcategories) are discounted.
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    # Single-use codes made for one shopper (an abandoned-cart email): usage_limit 1.
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="voucher_code_ci_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="voucher_value_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100),
                name="voucher_percentage_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=F("usage_limit")),
                name="voucher_used_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


# --- Carts -----------------------------------------------------------------------------------


def _new_token() -> str:
    return uuid.uuid4().hex


class Cart(models.Model):
    """A shopper's cart: in the session for guests, tied to the user once signed in."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ORDERED = "ordered", "Ordered"
        MERGED = "merged", "Merged into another cart"

    # Also the key of the cart's stock holds in inventory (Reservation.cart_key).
    token = models.CharField(max_length=32, unique=True, default=_new_token, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carts",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    voucher = models.ForeignKey(
        Voucher, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipping_method = models.ForeignKey(
        ShippingMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipping_address = models.JSONField(default=dict, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)
    # Billing same as shipping unless the shopper says otherwise.
    billing_same_as_shipping = models.BooleanField(default=True)
    payment_method = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Last time the shopper touched it: the abandonment clock starts here.
    updated_at = models.DateTimeField(default=timezone.now)
    checkout_started_at = models.DateTimeField(null=True, blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            models.Index(fields=["user", "status"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"Cart {self.token[:8]}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # The price when the shopper last saw it: a change since is pointed out, not hidden.
    price_seen = models.DecimalField(**MONEY)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"


# --- Orders ----------------------------------------------------------------------------------


def _order_secret() -> str:
    return secrets.token_urlsafe(24)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
        FULFILLED = "fulfilled", "Fulfilled"
        ON_HOLD = "on_hold", "On hold"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", "Unpaid"
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        FAILED = "failed", "Failed"

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled", "Unfulfilled"
        PARTIAL = "partial", "Partially fulfilled"
        FULFILLED = "fulfilled", "Fulfilled"

    class Channel(models.TextChoices):
        WEB = "web", "Online store"
        DASHBOARD = "dashboard", "Dashboard"
        OTHER = "other", "Other channel"

    # Shown to people: "1042". Set right after the insert, from the primary key.
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    # Secret of the guest's order-status link (signed in the email as well).
    secret = models.CharField(max_length=40, default=_order_secret, editable=False)
    # The cart that became this order: a double click or a retried POST finds this order
    # instead of placing another (unique).
    cart_token = models.CharField(max_length=32, unique=True, null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    # Where an order on hold returns when released.
    held_from = models.CharField(max_length=20, choices=Status.choices, blank=True)
    hold_reason = models.CharField(max_length=200, blank=True)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    fulfillment_status = models.CharField(
        max_length=20, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNFULFILLED
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    currency = models.CharField(max_length=3, default="EUR")
    prices_include_tax = models.BooleanField(default=True)
    subtotal = models.DecimalField(**MONEY, default=ZERO)
    discount_total = models.DecimalField(**MONEY, default=ZERO)
    shipping_total = models.DecimalField(**MONEY, default=ZERO)
    tax_total = models.DecimalField(**MONEY, default=ZERO)
    total = models.DecimalField(**MONEY, default=ZERO)
    paid_total = models.DecimalField(**MONEY, default=ZERO)
    refunded_total = models.DecimalField(**MONEY, default=ZERO)
    # Cost of goods sold, copied from the lines, for margin reports.
    cost_total = models.DecimalField(**MONEY, default=ZERO)
    shipping_address = models.JSONField(default=dict)
    billing_address = models.JSONField(default=dict)
    shipping_method = models.ForeignKey(
        ShippingMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipping_method_name = models.CharField(max_length=100, blank=True)
    voucher = models.ForeignKey(
        Voucher, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    voucher_code = models.CharField(max_length=40, blank=True)
    payment_method = models.CharField(max_length=30, blank=True)
    risk_score = models.PositiveSmallIntegerField(default=0)
    # [{"rule": "velocity_email", "points": 30, "reason": "4 orders from this email in 1 h"}]
    risk_reasons = models.JSONField(default=list, blank=True)
    is_disputed = models.BooleanField(default=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    customer_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The dashboard list: newest first (keyset on created_at, pk), by each filter.
            models.Index(fields=["-created_at", "-id"], name="order_newest"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_newest"),
            models.Index(
                fields=["payment_status", "-created_at", "-id"], name="order_payment_newest"
            ),
            models.Index(
                fields=["fulfillment_status", "-created_at", "-id"],
                name="order_fulfil_newest",
            ),
            models.Index(fields=["risk_score", "-created_at"], name="order_risk_newest"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_newest"),
            models.Index(Lower("email"), F("created_at").desc(), name="order_email_newest"),
            models.Index(fields=["ip_address", "created_at"], name="order_ip_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_total__lte=F("paid_total")),
                name="order_refunds_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.number or self.pk}"

    @property
    def net_total(self) -> Decimal:
        return self.paid_total - self.refunded_total

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.CANCELLED, self.Status.REFUNDED)

    @property
    def balance_due(self) -> Decimal:
        return max(self.total - self.paid_total, ZERO)


class OrderLine(models.Model):
    """What was bought, copied at purchase: later catalog changes do not rewrite history."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_title = models.CharField(max_length=200)
    variant_title = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True)
    # This line's share of the order discount.
    discount_amount = models.DecimalField(**MONEY, default=ZERO)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    tax_amount = models.DecimalField(**MONEY, default=ZERO)
    # unit_price * quantity - discount_amount (+ tax when prices exclude it).
    line_total = models.DecimalField(**MONEY)
    weight_grams = models.PositiveIntegerField(default=0)
    quantity_fulfilled = models.PositiveIntegerField(default=0)
    quantity_refunded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity_fulfilled__lte=F("quantity")),
                name="order_line_fulfilled_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(quantity_refunded__lte=F("quantity")),
                name="order_line_refunded_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def title(self) -> str:
        return (
            f"{self.product_title} — {self.variant_title}"
            if self.variant_title
            else (self.product_title)
        )

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderEvent(models.Model):
    """The order's timeline: every change, payment, refund, email and note, with who and when."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        STATUS = "status", "Status changed"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        EMAIL = "email", "Email sent"
        NOTE = "note", "Note"
        RISK = "risk", "Risk"
        FULFILLMENT = "fulfillment", "Fulfillment"
        STOCK = "stock", "Stock"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=500)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.message}"


class OrderEmail(models.Model):
    """Claims an email about an order before it is sent: a redelivered task sends nothing."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    # "confirmation", "payment_received", "cancelled", "refund:17", ...
    key = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], name="order_email_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} for {self.order_id}"


class VoucherRedemption(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="redemption")
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(Lower("email"), F("voucher"), name="redemption_email_voucher")]

    def __str__(self) -> str:
        return f"{self.voucher} on {self.order_id}"


# --- Payments --------------------------------------------------------------------------------


class Payment(models.Model):
    """One attempt to collect money for an order, with one provider."""

    class Status(models.TextChoices):
        # Ranked: a state only moves forward along this order (see orders.payments).
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        SUCCEEDED = "succeeded", "Succeeded"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    # "bank_transfer", "cash_on_delivery", "stripe".
    provider = models.CharField(max_length=30)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    amount_refunded = models.DecimalField(**MONEY, default=ZERO)
    # The provider's id: a Stripe PaymentIntent "pi_...". Unique when set.
    reference = models.CharField(max_length=100, blank=True)
    # For Stripe's Payment Element; not a secret of ours and no card data.
    client_secret = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    # Stripe Radar's "normal" / "elevated" / "highest", when known.
    risk_level = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"],
                condition=~Q(reference=""),
                name="payment_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount")),
                name="payment_refunds_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.amount} {self.currency} ({self.provider})"

    @property
    def refundable(self) -> Decimal:
        if self.status != self.Status.SUCCEEDED:
            return ZERO
        return self.amount - self.amount_refunded


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    # {order line id: quantity} when refunding lines; empty for an amount.
    lines = models.JSONField(default=dict, blank=True)
    # Shipping refunded, as the order's shipping_total counts it (before tax when prices
    # exclude tax; `amount` then also holds its share of the shipping tax). Over all
    # refunds at most the order's shipping_total.
    shipping_amount = models.DecimalField(**MONEY, default=ZERO)
    restock = models.BooleanField(default=False)
    # Stripe's "re_..."; unique when set, so a webhook for a refund we made finds it.
    reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="refund_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} on {self.order_id}"


class Dispute(models.Model):
    """A chargeback: the shopper's bank took the money back pending evidence."""

    class Status(models.TextChoices):
        WARNING = "warning_needs_response", "Inquiry: needs response"
        NEEDS_RESPONSE = "needs_response", "Needs response"
        UNDER_REVIEW = "under_review", "Under review"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    reference = models.CharField(max_length=100, unique=True)
    reason = models.CharField(max_length=60, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=30, choices=Status.choices)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dispute {self.reference} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.WON, self.Status.LOST)


class WebhookEvent(models.Model):
    """A payment provider's webhook event, stored once by its id: a redelivery is a no-op."""

    provider = models.CharField(max_length=30, default="stripe")
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
