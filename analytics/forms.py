"""Validation of what a person typed into analytics forms."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from analytics.selectors import store_today

DEFAULT_DAYS = 30
MAX_DAYS = 731
PRESETS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last year"),
]


class DateRangeForm(forms.Form):
    """Unbound or blank: the last 30 days, today included."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        today = store_today()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if end > today:
            self.add_error("end", "The range cannot end after today.")
        if start > end:
            self.add_error("start", "The start must be on or before the end.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", f"Choose at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def range(self) -> tuple[date, date]:
        """The chosen days, or the default when what was typed is not valid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        today = store_today()
        return today - timedelta(days=DEFAULT_DAYS - 1), today
