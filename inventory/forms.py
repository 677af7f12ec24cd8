"""Validation of what staff type into stock forms."""

from __future__ import annotations

from django import forms

from inventory.models import StockMovement, Warehouse
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
