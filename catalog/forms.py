"""Validation of what staff type into catalog forms."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from catalog.models import Category, Collection, Product, Variant


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Product.Status.choices]
    )
    category = forms.ModelChoiceField(
        required=False, queryset=Category.objects.all(), empty_label="Any category"
    )
    collection = forms.ModelChoiceField(
        required=False, queryset=Collection.objects.all(), empty_label="Any collection"
    )
    vendor = forms.CharField(required=False, max_length=120)
    stock = forms.ChoiceField(
        required=False, choices=[("", "Any stock"), ("in", "In stock"), ("out", "Out of stock")]
    )


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("publish", "Publish"),
        ("archive", "Archive"),
        ("draft", "Unpublish (draft)"),
        ("category", "Set category"),
        ("price", "Change prices by %"),
    ]
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.all(),
        error_messages={"required": "Select at least one product."},
    )
    action = forms.ChoiceField(choices=ACTIONS)
    category = forms.ModelChoiceField(queryset=Category.objects.all(), required=False)
    percent = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("500"))],
        help_text="Negative to lower prices, e.g. -10.",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == "category" and not cleaned.get("category"):
            self.add_error("category", "Choose the category to move the products to.")
        if action == "price" and cleaned.get("percent") in (None, Decimal(0)):
            self.add_error("percent", "Enter a percentage other than 0.")
        return cleaned


class ProductForm(forms.ModelForm):
    tags = forms.CharField(
        required=False, help_text="Separated by commas, e.g. summer, linen.", max_length=500
    )
    related = forms.CharField(
        required=False,
        max_length=1000,
        label="Related products",
        help_text="Their addresses (the part after /products/), separated by commas. "
        "Shown first under “You may also like”.",
    )

    class Meta:
        model = Product
        fields = [
            "title",
            "slug",
            "description",
            "vendor",
            "product_type",
            "category",
            "seo_title",
            "seo_description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        labels = {"seo_title": "SEO title", "seo_description": "SEO description"}
        help_texts = {
            "slug": "The last part of its address, as in /products/linen-shirt/. "
            "Leave empty to make one from the title."
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        if self.instance.pk:
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())
            self.initial["related"] = ", ".join(
                self.instance.related_products.values_list("slug", flat=True)
            )

    def clean_related(self) -> list[Product]:
        slugs = list(
            dict.fromkeys(s.strip().strip("/") for s in self.cleaned_data["related"].split(","))
        )
        slugs = [slug.removeprefix("products/") for slug in slugs if slug]
        found = {p.slug: p for p in Product.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise forms.ValidationError(f"No product at: {', '.join(missing)}.")
        if self.instance.pk and self.instance.slug in found:
            raise forms.ValidationError("A product cannot be related to itself.")
        return [found[slug] for slug in slugs]

    def clean_tags(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]
        if any(len(name) > 60 for name in names):
            raise forms.ValidationError("A tag can be at most 60 characters long.")
        return list(dict.fromkeys(names))


class OptionForm(forms.Form):
    name = forms.CharField(max_length=60)
    values = forms.CharField(max_length=500, help_text="Separated by commas, e.g. S, M, L.")

    def clean_values(self) -> list[str]:
        values = [
            value.strip() for value in self.cleaned_data["values"].split(",") if value.strip()
        ]
        if not values:
            raise forms.ValidationError("Enter at least one value.")
        if len({value.lower() for value in values}) != len(values):
            raise forms.ValidationError("A value is listed twice.")
        return values


class VariantForm(forms.ModelForm):
    price = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    compare_at_price = forms.DecimalField(
        min_value=0, max_digits=12, decimal_places=2, required=False, label="Compare at"
    )
    cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, required=False)

    class Meta:
        model = Variant
        fields = [
            "sku",
            "barcode",
            "price",
            "compare_at_price",
            "cost",
            "weight_grams",
            "track_inventory",
        ]
        labels = {"weight_grams": "Weight (g)", "compare_at_price": "Compare at"}

    def clean(self) -> dict:
        cleaned = super().clean()
        price, compare = cleaned.get("price"), cleaned.get("compare_at_price")
        if price is not None and compare is not None and compare <= price:
            self.add_error("compare_at_price", "Must be higher than the price, or empty.")
        return cleaned

    def validate_constraints(self, exclude: object = None) -> None:
        # The compare-at check has a clear message above; the database constraint stays
        # as the backstop.
        return None


class ImageUploadForm(forms.Form):
    # A FileField, not an ImageField: ImageField would decode the upload with Pillow
    # before catalog.images validates it within its own limits.
    image = forms.FileField(help_text="JPEG, PNG, WebP or GIF, up to 10 MB.")
    alt = forms.CharField(
        required=False,
        max_length=200,
        label="Alt text",
        help_text="What the picture shows, for screen readers.",
    )
    variant = forms.ModelChoiceField(
        queryset=Variant.objects.none(),
        required=False,
        empty_label="Every variant",
        label="Shows variant",
        help_text="Choosing this variant on the product page shows this picture.",
    )

    def __init__(self, *args: object, product: Product | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if product is not None:
            self.fields["variant"].queryset = product.variants.all()


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="One row per variant, UTF-8. Start from an export to get the columns right.",
    )
