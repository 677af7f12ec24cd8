"""Validation of what staff type into stock forms."""

from __future__ import annotations

from django import forms

from catalog.models import Category
from inventory.models import StockMovement, Supplier, Warehouse
from inventory.services import BY_HAND

REASONS = [(value, label) for value, label in StockMovement.Reason.choices if value in BY_HAND]


class StockFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True),
        required=False,
        empty_label="All warehouses",
    )
    state = forms.ChoiceField(
        required=False, choices=[("", "Any stock"), ("low", "Low"), ("out", "Out of stock")]
    )


class AdjustForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True), empty_label="Choose a warehouse"
    )
    delta = forms.IntegerField(
        label="Change",
        help_text="Units to add, or to remove with a minus: -3.",
        min_value=-100000,
        max_value=100000,
    )
    reason = forms.ChoiceField(choices=REASONS)
    note = forms.CharField(
        required=False, max_length=200, help_text="Needed for an adjustment or damage."
    )

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("Enter a change other than 0.")
        return delta


class TransferForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True), label="From")
    target = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True), label="To")
    quantity = forms.IntegerField(min_value=1, max_value=100000)
    note = forms.CharField(required=False, max_length=200)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("source") and cleaned.get("source") == cleaned.get("target"):
            self.add_error("target", "Choose a different warehouse.")
        return cleaned


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = [
            "name",
            "contact_name",
            "email",
            "phone",
            "lead_time_days",
            "minimum_order",
            "currency",
            "payment_terms",
            "is_active",
        ]
        labels = {"lead_time_days": "Lead time (days)", "is_active": "Active"}

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("Use a 3-letter currency code, such as EUR.")
        return currency


class SupplierItemForm(forms.Form):
    sku = forms.CharField(label="Our SKU", max_length=64)
    supplier_sku = forms.CharField(label="Their SKU", max_length=64, required=False)
    unit_cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    preferred = forms.BooleanField(required=False, label="Preferred supplier for this item")


class CountStartForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True), empty_label="Choose a warehouse"
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("path"), required=False, empty_label="Every category"
    )
    bin_from = forms.CharField(max_length=40, required=False, label="Bins from")
    bin_to = forms.CharField(max_length=40, required=False, label="Bins to")


class ScanForm(forms.Form):
    code = forms.CharField(
        max_length=64,
        label="SKU or barcode",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "inputmode": "text"}
        ),
    )
    quantity = forms.IntegerField(
        required=False, min_value=0, max_value=1_000_000, help_text="Empty: one more per scan."
    )


class BulkAdjustForm(forms.Form):
    stock = forms.ModelMultipleChoiceField(
        queryset=None, error_messages={"required": "Tick the rows to change."}
    )
    delta = forms.IntegerField(label="Change", min_value=-100000, max_value=100000)
    reason = forms.ChoiceField(choices=REASONS)
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: object, **kwargs: object) -> None:
        from inventory.models import StockLevel

        super().__init__(*args, **kwargs)
        self.fields["stock"].queryset = StockLevel.objects.all()

    def clean_delta(self) -> int:
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError("Enter a change other than 0.")
        return self.cleaned_data["delta"]
