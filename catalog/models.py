"""The catalog: what the store sells and how shoppers find it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

MONEY = {"max_digits": 12, "decimal_places": 2}


class CatalogAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the catalog dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_catalog", "Can open the catalog dashboard")]


class Category(models.Model):
    """A node of the category tree."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    seo_title = models.CharField(max_length=70, blank=True)
    seo_description = models.CharField(max_length=160, blank=True)
    # Ancestor ids and its own, "/3/7/12/", kept by catalog.services.category_save: a
    # subtree is one `path__startswith` filter and breadcrumbs are one query.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="/")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]


class Tag(models.Model):
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=70, unique=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    vendor = models.CharField(max_length=120, blank=True)
    product_type = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    related_products = models.ManyToManyField("self", blank=True, symmetrical=False)
    seo_title = models.CharField(max_length=70, blank=True)
    seo_description = models.CharField(max_length=160, blank=True)
    # Kept by the variant services, so listings sort and filter by price and show a
    # picture without a join, an aggregate or a query per product.
    price_min = models.DecimalField(**MONEY, null=True, blank=True)
    price_max = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    cover_image = models.ForeignKey(
        "ProductImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Any variant in stock (kept with Variant.in_stock), for the "in stock" filter.
    in_stock = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "category", "-published_at"]),
            models.Index(fields=["status", "-published_at"]),
            models.Index(fields=["status", "price_min"]),
            models.Index(fields=["vendor"]),
            models.Index(fields=["-updated_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.ACTIVE


class ProductOption(models.Model):
    """An axis the variants differ on: Size, Colour, ..."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="option_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class OptionValue(models.Model):
    option = models.ForeignKey(ProductOption, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["option", "value"], name="option_value_unique")
        ]

    def __str__(self) -> str:
        return self.value


class Variant(models.Model):
    """What is actually bought and stocked: one combination of option values."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    barcode = models.CharField(max_length=64, blank=True, db_index=True)
    title = models.CharField(
        max_length=200, blank=True, help_text="Its option values, e.g. M / Blue."
    )
    option_values = models.ManyToManyField(OptionValue, blank=True, related_name="variants")
    price = models.DecimalField(**MONEY)
    compare_at_price = models.DecimalField(**MONEY, null=True, blank=True)
    cost = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    weight_grams = models.PositiveIntegerField(default=0)
    track_inventory = models.BooleanField(default=True)
    # Pushed down by the inventory app (catalog.services.availability_set) whenever stock
    # changes which side of zero it is on; variants not tracked are always in stock.
    in_stock = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            # The services compare SKUs without case ("ab-1" is "AB-1"); so does the database.
            models.UniqueConstraint(Lower("sku"), name="variant_sku_ci_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True)
                | Q(compare_at_price__gt=models.F("price")),
                name="variant_compare_at_above_price",
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="variant_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} — {self.title}" if self.title else self.product.title

    @property
    def on_sale(self) -> bool:
        return self.compare_at_price is not None and self.compare_at_price > self.price


class PriceChange(models.Model):
    """Every change of a variant's price, for the history and for margin reports."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="price_changes")
    old_price = models.DecimalField(**MONEY, null=True)
    new_price = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    changed_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.variant.sku}: {self.old_price} → {self.new_price}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )
    image = models.ImageField(
        upload_to="products/%Y/%m/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    # {"320": "products/renditions/…-320.webp", ...}, written by the rendition task.
    renditions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.alt or self.image.name


class Collection(models.Model):
    """A hand-picked list of products, or a rule ("tag is summer", "price below 20")."""

    class Kind(models.TextChoices):
        MANUAL = "manual", "Hand-picked"
        RULES = "rules", "By rules"

    class Match(models.TextChoices):
        ALL = "all", "All rules"
        ANY = "any", "Any rule"

    title = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    products = models.ManyToManyField(Product, blank=True, related_name="collections")
    # [{"field": "tag" | "vendor" | "type" | "price", "op": "eq" | "lt" | "gt", "value": "..."}]
    rules = models.JSONField(default=list, blank=True)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    featured = models.BooleanField(default=False, help_text="Shown on the home page.")
    position = models.PositiveIntegerField(default=0)
    seo_title = models.CharField(max_length=70, blank=True)
    seo_description = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


def _import_name(instance: object, filename: str) -> str:
    # A random name: the merchant's file name stays in original_name, never in a path.
    import uuid

    return f"imports/products/{uuid.uuid4().hex}.csv"


class ProductImport(models.Model):
    """A CSV import started from the dashboard, run by a worker, watched with a progress bar."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FAILED = "failed", "Failed"
        DONE = "done", "Done"

    file = models.FileField(upload_to=_import_name, storage=_private_storage, blank=True)
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    # ["line 4: price 'abc' is not an amount of money", ...]; the first few hundred.
    errors = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import of {self.original_name} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.DONE)
