from __future__ import annotations

from django.db import models


class AnalyticsAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the analytics dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_analytics", "Can open the analytics dashboard")]


MONEY = {"max_digits": 14, "decimal_places": 2, "default": 0, "db_default": 0}
RATE = {"max_digits": 7, "decimal_places": 4, "default": 0, "db_default": 0}


class Visitor(models.Model):
    """A browser, known by a random first-party cookie; keeps where it first came from."""

    key = models.CharField(max_length=32, primary_key=True)
    first_seen_at = models.DateTimeField()
    first_source = models.CharField(max_length=100)
    first_medium = models.CharField(max_length=100, blank=True)
    first_campaign = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.key


class Visit(models.Model):
    """One session on the storefront: from the landing page until 30 minutes of quiet."""

    class Device(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        TABLET = "tablet", "Tablet"
        DESKTOP = "desktop", "Desktop"

    key = models.CharField(max_length=32, unique=True)
    visitor_key = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    landing_path = models.CharField(max_length=500)
    referrer_host = models.CharField(max_length=200, blank=True)
    # utm_source, else the referring site, else "direct".
    source = models.CharField(max_length=100)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    device = models.CharField(max_length=10, choices=Device.choices)
    page_views = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["started_at"], name="visit_started")]

    def __str__(self) -> str:
        return self.key


class ProductView(models.Model):
    visit_key = models.CharField(max_length=32)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    viewed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["viewed_at"], name="product_view_at")]

    def __str__(self) -> str:
        return f"{self.product_id} at {self.viewed_at}"


class OrderAttribution(models.Model):
    """Which visit placed an order, and the visitor's first source (the credited one)."""

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="analytics_attribution",
    )
    visit_key = models.CharField(max_length=32)
    source = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.order_id}: {self.source}"


class KpiDay(models.Model):
    """The claim for "KPIs for this date": locked while the day is rolled up, and the
    record that it was (so the nightly job can find missing days)."""

    day = models.DateField(primary_key=True)
    rolled_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return str(self.day)


class DailyKpi(models.Model):
    day = models.DateField(unique=True)
    sessions = models.PositiveIntegerField(default=0, db_default=0)
    bounces = models.PositiveIntegerField(default=0, db_default=0)
    bounce_rate = models.DecimalField(**RATE)
    product_views = models.PositiveIntegerField(default=0, db_default=0)
    add_to_carts = models.PositiveIntegerField(default=0, db_default=0)
    checkouts_started = models.PositiveIntegerField(default=0, db_default=0)
    orders = models.PositiveIntegerField(default=0, db_default=0)
    conversion_rate = models.DecimalField(**RATE)
    gross_revenue = models.DecimalField(**MONEY)
    refunds = models.DecimalField(**MONEY)
    net_revenue = models.DecimalField(**MONEY)
    average_order_value = models.DecimalField(**MONEY)
    units = models.PositiveIntegerField(default=0, db_default=0)
    new_customers = models.PositiveIntegerField(default=0, db_default=0)
    returning_customers = models.PositiveIntegerField(default=0, db_default=0)
    carts_created = models.PositiveIntegerField(default=0, db_default=0)
    carts_abandoned = models.PositiveIntegerField(default=0, db_default=0)
    cart_abandonment_rate = models.DecimalField(**RATE)
    discounts = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    shipping = models.DecimalField(**MONEY)
    cost_of_goods = models.DecimalField(**MONEY)
    gross_profit = models.DecimalField(**MONEY)
    gross_margin = models.DecimalField(**RATE)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return str(self.day)


class DailySourceKpi(models.Model):
    day = models.DateField()
    source = models.CharField(max_length=100)
    sessions = models.PositiveIntegerField(default=0, db_default=0)
    orders = models.PositiveIntegerField(default=0, db_default=0)
    revenue = models.DecimalField(**MONEY)
    conversion_rate = models.DecimalField(**RATE)

    class Meta:
        ordering = ["day", "source"]
        constraints = [
            models.UniqueConstraint(fields=["day", "source"], name="daily_source_kpi_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source}"


class DailyProductKpi(models.Model):
    day = models.DateField()
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    views = models.PositiveIntegerField(default=0, db_default=0)
    add_to_carts = models.PositiveIntegerField(default=0, db_default=0)
    units = models.PositiveIntegerField(default=0, db_default=0)
    revenue = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["day", "product"]
        constraints = [
            models.UniqueConstraint(fields=["day", "product"], name="daily_product_kpi_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}"
