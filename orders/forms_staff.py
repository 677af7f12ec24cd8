"""What staff type into the orders dashboard: list filters, order actions, store settings."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.forms import inlineformset_factory

from catalog.models import Category, Product
from customers.countries import COUNTRY_NAMES
from orders.models import Order, ShippingMethod, ShippingRate, ShippingZone, TaxRate, Voucher
from orders.refunds import shipping_refundable

# ISO 3166-1 alpha-2: the same list the shopper's address forms offer.
COUNTRY_CODES = frozenset(COUNTRY_NAMES)

MONEY = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(Decimal(0))]}


def _country(code: str) -> str:
    code = code.strip().upper()
    if code not in COUNTRY_CODES:
        raise forms.ValidationError(
            f"{code or '(empty)'} is not a country code; use two letters such as DE or FR."
        )
    return code


# --- The list --------------------------------------------------------------------------------


class OrderFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Order.Status.choices])
    payment_status = forms.ChoiceField(
        required=False, choices=[("", "Any payment"), *Order.PaymentStatus.choices]
    )
    fulfillment_status = forms.ChoiceField(
        required=False, choices=[("", "Any fulfillment"), *Order.FulfillmentStatus.choices]
    )
    risk = forms.ChoiceField(
        required=False, choices=[("", "Any risk"), ("high", "Held / high risk")]
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
            cleaned.pop("date_to", None)
        return cleaned


# --- Order actions ---------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)


class HoldForm(forms.Form):
    reason = forms.CharField(
        max_length=200, error_messages={"required": "Say why the order is held."}
    )


class NoteForm(forms.Form):
    message = forms.CharField(
        max_length=500,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write a note first."},
    )


class RefundForm(forms.Form):
    """Per line quantities (fields `line-<id>`), or an amount; shipping on top of lines."""

    amount = forms.DecimalField(
        required=False, label="Or an amount", help_text="Instead of lines.", **MONEY
    )
    shipping = forms.DecimalField(
        required=False, label="Shipping to refund", help_text="Added to the lines.", **MONEY
    )
    reason = forms.CharField(max_length=200, required=False)
    restock = forms.BooleanField(
        required=False, initial=True, label="Put refunded units back in stock"
    )

    def __init__(self, *args: object, order: Order, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        if order.status == Order.Status.CANCELLED:
            # Cancelling already released the order's stock: nothing to put back.
            del self.fields["restock"]
        self.line_fields = []
        for line in order.lines.all():
            left = line.quantity - line.quantity_refunded
            name = f"line-{line.pk}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=left,
                label=f"Units of {line.sku} to refund",
                error_messages={"max_value": f"Only {left} of {line.sku} can still be refunded."},
                widget=forms.NumberInput(
                    attrs={
                        "class": "input-qty",
                        "placeholder": "0",
                        "aria-label": f"Units of {line.sku} to refund",
                    }
                ),
            )
            self.line_fields.append((line, self[name], left))

    def clean(self) -> dict:
        cleaned = super().clean()
        lines = {line.pk: cleaned.get(f"line-{line.pk}") or 0 for line, _, _ in self.line_fields}
        cleaned["lines"] = {pk: qty for pk, qty in lines.items() if qty}
        amount = cleaned.get("amount")
        shipping = cleaned.get("shipping")
        if shipping and not cleaned["lines"]:
            self.add_error("shipping", "Shipping is refunded with lines; or put it in the amount.")
        elif shipping and shipping > shipping_refundable(self.order):
            self.add_error(
                "shipping",
                f"At most {shipping_refundable(self.order)} {self.order.currency} of shipping "
                "is left to refund.",
            )
        if cleaned["lines"] and amount:
            self.add_error(None, "Refund either lines or an amount, not both.")
        elif not cleaned["lines"] and not amount and not self.errors:
            self.add_error(None, "Choose lines to refund or enter an amount above zero.")
        return cleaned


# --- Store settings --------------------------------------------------------------------------


class CountriesField(forms.CharField):
    """Country codes separated by commas or spaces: "DE, AT FR"."""

    def clean(self, value: str) -> list[str]:
        value = super().clean(value)
        codes = [part for part in value.replace(",", " ").split() if part]
        if not codes:
            raise forms.ValidationError("Enter at least one country code.")
        bad = [code for code in codes if code.upper() not in COUNTRY_CODES]
        if bad:
            raise forms.ValidationError(
                f"Not country codes: {', '.join(bad)}. Use two letters such as DE or FR."
            )
        return sorted({code.upper() for code in codes})


class ShippingZoneForm(forms.ModelForm):
    countries = CountriesField(help_text="Two-letter codes, separated by commas: DE, AT, FR.")

    class Meta:
        model = ShippingZone
        fields = ["name", "countries"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["countries"] = ", ".join(self.instance.countries)

    def clean_countries(self) -> list[str]:
        codes = self.cleaned_data["countries"]
        # A country in two zones would make the shipping options depend on zone order.
        taken = {}
        for zone in ShippingZone.objects.exclude(pk=self.instance.pk):
            for code in zone.countries:
                taken[code] = zone.name
        clashes = [f"{code} (in {taken[code]})" for code in codes if code in taken]
        if clashes:
            raise forms.ValidationError(f"Already in another zone: {', '.join(clashes)}.")
        return codes


class ShippingMethodForm(forms.ModelForm):
    class Meta:
        model = ShippingMethod
        fields = [
            "name",
            "description",
            "pricing",
            "price",
            "free_above",
            "min_days",
            "max_days",
            "is_active",
            "position",
        ]
        labels = {
            "price": "Price (flat, or below the first rate)",
            "free_above": "Free from an order value of",
            "min_days": "Transit days, at least",
            "max_days": "Transit days, at most",
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        low, high = cleaned.get("min_days"), cleaned.get("max_days")
        if low is not None and high is not None and high < low:
            self.add_error("max_days", "At most must not be below at least.")
        for name in ("price", "free_above"):
            if cleaned.get(name) is not None and cleaned[name] < 0:
                self.add_error(name, "Enter an amount of 0 or more.")
        return cleaned


class ShippingRateForm(forms.ModelForm):
    class Meta:
        model = ShippingRate
        fields = ["threshold", "price"]
        labels = {"threshold": "From (grams or order value)", "price": "Price"}

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in ("threshold", "price"):
            if cleaned.get(name) is not None and cleaned[name] < 0:
                self.add_error(name, "Enter 0 or more.")
        return cleaned


ShippingRateFormSet = inlineformset_factory(
    ShippingMethod,
    ShippingRate,
    form=ShippingRateForm,
    extra=2,
    can_delete=True,
)


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ["country", "region", "name", "rate"]
        labels = {"rate": "Rate (%)", "region": "Region (empty: the whole country)"}

    def clean_country(self) -> str:
        return _country(self.cleaned_data["country"])

    def clean_rate(self) -> Decimal:
        rate = self.cleaned_data["rate"]
        if not Decimal(0) <= rate <= Decimal(100):
            raise forms.ValidationError("A rate is a percentage from 0 to 100.")
        return rate

    def clean(self) -> dict:
        cleaned = super().clean()
        country, region = cleaned.get("country"), (cleaned.get("region") or "").strip()
        cleaned["region"] = region
        if country:
            clash = TaxRate.objects.filter(country=country, region__iexact=region).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                where = f"{country}-{region}" if region else country
                raise forms.ValidationError(f"{where} already has a rate; edit that one.")
        return cleaned


class VoucherForm(forms.ModelForm):
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.order_by("title"),
        required=False,
        help_text="Only these products are discounted (empty: all).",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"),
        required=False,
        help_text="Only products in these categories or their subcategories.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Voucher
        fields = [
            "code",
            "kind",
            "value",
            "min_subtotal",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
            "products",
            "categories",
            "is_active",
            "note",
        ]
        labels = {
            "value": "Value (percent or amount)",
            "min_subtotal": "Minimum subtotal",
            "starts_at": "Starts",
            "ends_at": "Ends",
            "usage_limit": "Uses in total",
            "per_customer_limit": "Uses per customer",
        }
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "ends_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if not code or any(char.isspace() for char in code):
            raise forms.ValidationError("A code is one word without spaces.")
        if Voucher.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"The code {code} is already taken.")
        return code

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if value is not None and value < 0:
            self.add_error("value", "Enter 0 or more.")
        elif kind == Voucher.Kind.PERCENTAGE and value is not None and value > 100:
            self.add_error("value", "A percentage cannot be over 100.")
        elif kind in (Voucher.Kind.PERCENTAGE, Voucher.Kind.FIXED) and not value:
            self.add_error("value", "Enter how much the voucher takes off.")
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end is before the start.")
        minimum = cleaned.get("min_subtotal")
        if minimum is not None and minimum < 0:
            self.add_error("min_subtotal", "Enter 0 or more.")
        limit = cleaned.get("usage_limit")
        if limit is not None and self.instance.pk and limit < self.instance.times_used:
            self.add_error(
                "usage_limit", f"It has already been used {self.instance.times_used} times."
            )
        return cleaned
