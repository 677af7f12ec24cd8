"""Dashboard forms for customers: list filters, notes and tags."""

from __future__ import annotations

from django import forms

from customers.models import CustomerTag

YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]


class CustomerFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    account = forms.ChoiceField(
        required=False, choices=[("", "Any account"), ("yes", "Has account"), ("no", "Guest")]
    )
    marketing = forms.ChoiceField(
        required=False,
        choices=[("", "Any consent"), ("yes", "Accepts marketing"), ("no", "No marketing")],
    )
    ordered = forms.ChoiceField(
        required=False,
        choices=[("", "Any orders"), ("yes", "Has ordered"), ("no", "Never ordered")],
    )
    tag = forms.ModelChoiceField(
        required=False,
        queryset=CustomerTag.objects.all(),
        to_field_name="name",
        empty_label="Any tag",
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("newest", "Newest"),
            ("spent", "Total spent"),
            ("orders", "Orders count"),
            ("last_order", "Last order"),
        ],
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Notes",
        help_text="Only staff see this.",
    )


class TagForm(forms.Form):
    name = forms.CharField(
        max_length=40,
        label="Add a tag",
        error_messages={"required": "Type a tag name."},
        widget=forms.TextInput(attrs={"placeholder": "vip, wholesale…", "list": "tag-names"}),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Type a tag name.", code="required")
        return name
