"""Validation of what a person typed into marketing forms."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

MAX_DELAY_HOURS = 24 * 30
MAX_RANGE_DAYS = 366


class AbandonmentSequenceForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Send cart-abandonment emails")
    step1_delay_hours = forms.IntegerField(
        label="First email after (hours)",
        min_value=1,
        max_value=MAX_DELAY_HOURS,
        help_text="Counted from the shopper's last change to the cart.",
    )
    step2_delay_hours = forms.IntegerField(
        label="Second email after (hours)", min_value=1, max_value=MAX_DELAY_HOURS
    )
    voucher_percent = forms.IntegerField(
        label="Voucher in the second email (% off)",
        required=False,
        min_value=1,
        max_value=100,
        error_messages={
            "min_value": "Enter a percentage from 1 to 100.",
            "max_value": "Enter a percentage from 1 to 100.",
        },
        help_text="A single-use code for that shopper. Leave empty for no voucher.",
    )
    voucher_valid_days = forms.IntegerField(
        label="Voucher valid for (days)", min_value=1, max_value=365
    )

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("step1_delay_hours"), data.get("step2_delay_hours")
        if first is not None and second is not None and second <= first:
            self.add_error(
                "step2_delay_hours",
                f"The second email must come later than the first ({first} h).",
            )
        return data


class ReportRangeForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def default_range() -> dict:
        today = timezone.localdate()
        return {"start": today - timedelta(days=29), "end": today}

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days >= MAX_RANGE_DAYS:
                self.add_error("end", "Choose a range of at most a year.")
        return data
