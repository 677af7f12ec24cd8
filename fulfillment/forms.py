"""Validation of what a person typed into fulfillment forms."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from fulfillment.models import Carrier, CarrierService, ReturnLine, ReturnRequest, Shipment
from inventory.models import Warehouse
from orders.models import ShippingZone


class ScanForm(forms.Form):
    code = forms.CharField(
        max_length=64,
        label="Scan or type SKU / barcode",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    quantity = forms.IntegerField(min_value=1, max_value=999, initial=1)


class ShipForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=CarrierService.objects.none(), label="Carrier service"
    )
    tracking_number = forms.CharField(max_length=60, required=False)
    weight_grams = forms.IntegerField(label="Weight (g)", min_value=0, max_value=1_000_000)
    cost = forms.DecimalField(
        label="Postage",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Empty: from the carrier's rate table.",
    )

    def __init__(self, *args: object, options: list | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = CarrierService.objects.filter(
            is_active=True, carrier__is_active=True
        ).select_related("carrier")
        if options:
            labels = {
                option.service.pk: (
                    f"{option.service} — {option.cost}, by {option.delivers_by:%a %d %b}"
                    + ("" if option.meets_promise else " (later than promised)")
                )
                for option in options
            }
            self.fields["service"].label_from_instance = lambda service: labels.get(
                service.pk, f"{service} — no rate for this parcel"
            )


class ShipmentStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (value, label)
            for value, label in Shipment.Status.choices
            if value in ("in_transit", "delivered", "exception", "returned")
        ]
    )
    message = forms.CharField(max_length=300, required=False)


class ReturnRequestForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *ReturnRequest.Reason.choices])
    comment = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything we should know?",
    )

    def __init__(self, *args: object, lines: list, allowed: dict, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.line_rows = []
        for line in lines:
            units = allowed.get(line.pk, {}).get("units", 0)
            name = f"line_{line.pk}"
            if units:
                self.fields[name] = forms.IntegerField(
                    label=f"How many of {line.title}", min_value=0, max_value=units, initial=0
                )
            self.line_rows.append(
                {"line": line, "field": self[name] if units else None, **allowed.get(line.pk, {})}
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            not any(cleaned.get(name) for name in self.fields if name.startswith("line_"))
            and not self.errors
        ):
            raise forms.ValidationError("Choose at least one item to return.")
        return cleaned

    def chosen(self) -> dict[int, int]:
        return {
            int(name.removeprefix("line_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("line_") and value
        }


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    message = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Message to the shopper",
        help_text="Needed when rejecting.",
    )


class ReceiveForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True))

    def __init__(self, *args: object, lines: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("warehouse", self.fields["warehouse"].queryset.first())
        self.line_rows = []
        for line in lines:
            self.fields[f"received_{line.pk}"] = forms.IntegerField(
                label=f"Units of {line.order_line.sku} back",
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
            )
            self.fields[f"condition_{line.pk}"] = forms.ChoiceField(
                label=f"Condition of {line.order_line.sku}", choices=ReturnLine.Condition.choices
            )
            self.line_rows.append((line, self[f"received_{line.pk}"], self[f"condition_{line.pk}"]))

    def received(self) -> dict[int, tuple[int, str]]:
        return {
            line.pk: (
                self.cleaned_data[f"received_{line.pk}"],
                self.cleaned_data[f"condition_{line.pk}"],
            )
            for line, _, _ in self.line_rows
        }


class SettleForm(forms.Form):
    action = forms.ChoiceField(choices=[("refund", "Refund"), ("exchange", "Exchange")])

    def __init__(
        self, *args: object, choices: dict, can_refund: bool = True, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        if not can_refund:
            self.fields["action"].choices = [("exchange", "Exchange")]
            self.fields["action"].help_text = "Refunds are for staff who may send money back."
        self.line_rows = []
        for line, variants in choices.items():
            if not line.quantity_received:
                continue
            name = f"variant_{line.pk}"
            self.fields[name] = forms.TypedChoiceField(
                label=f"Replacement for {line.order_line.sku}",
                required=False,
                coerce=int,
                choices=[("", "—")]
                + [(v.pk, f"{v.sku} ({v.title or v}) {v.price}") for v in variants],
            )
            self.line_rows.append((line, self[name]))

    def replacements(self) -> dict[int, int]:
        return {
            int(name.removeprefix("variant_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("variant_") and value
        }


class RateForm(forms.Form):
    service = forms.ModelChoiceField(queryset=CarrierService.objects.select_related("carrier"))
    zone = forms.ModelChoiceField(queryset=ShippingZone.objects.all())
    max_weight_grams = forms.IntegerField(label="Up to (g)", min_value=1, max_value=1_000_000)
    price = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)


TRACKING_PLACEHOLDER = "{tracking}"  # what CarrierService.tracking_url replaces
_PLACEHOLDERS = re.compile(r"\{[^{}]*\}")
_CODE_FIXED = "Fixed once created: integrations and the webhook address use it."


class CarrierForm(forms.ModelForm):
    class Meta:
        model = Carrier
        fields = ["name", "code", "webhook_auth", "is_active"]
        labels = {"webhook_auth": "Tracking webhook signs with", "is_active": "Active"}
        help_texts = {
            "code": "Letters, digits, hyphens, underscores; kept in lower case. The "
            "tracking webhook address ends with it.",
            "is_active": "Off: none of its services is offered when shipping, and its "
            "tracking webhook refuses updates.",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _CODE_FIXED

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().lower()
        clash = Carrier.objects.filter(code__iexact=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(f"Another carrier already uses the code “{code}”.")
        return code


class CarrierServiceForm(forms.ModelForm):
    transit_days_min = forms.IntegerField(label="Transit from (days)", min_value=0, max_value=90)
    transit_days_max = forms.IntegerField(label="Transit up to (days)", min_value=0, max_value=90)

    class Meta:
        model = CarrierService
        fields = [
            "name",
            "code",
            "tracking_url_template",
            "transit_days_min",
            "transit_days_max",
            "is_active",
        ]
        labels = {"tracking_url_template": "Tracking link", "is_active": "Active"}
        help_texts = {
            "code": "Letters, digits, hyphens, underscores; kept in lower case, unique within "
            "the carrier.",
            "tracking_url_template": "An http(s) address with {tracking} where the tracking "
            "number goes, e.g. https://track.example.com/?id={tracking}. Empty for untracked "
            "services.",
            "is_active": "Off: not offered when shipping.",
        }
        widgets = {"tracking_url_template": forms.URLInput(attrs={"inputmode": "url"})}

    def __init__(self, *args: object, carrier: Carrier, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.instance.carrier = carrier
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _CODE_FIXED

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().lower()
        clash = CarrierService.objects.filter(
            carrier=self.instance.carrier, code__iexact=code
        ).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                f"{self.instance.carrier.name} already has a service with the code “{code}”."
            )
        return code

    def clean_tracking_url_template(self) -> str:
        template = self.cleaned_data["tracking_url_template"].strip()
        if not template:
            return ""
        unknown = sorted(set(_PLACEHOLDERS.findall(template)) - {TRACKING_PLACEHOLDER})
        if unknown:
            raise ValidationError(
                f"Only {TRACKING_PLACEHOLDER} can be filled in, not {', '.join(unknown)}."
            )
        if TRACKING_PLACEHOLDER not in template:
            raise ValidationError(
                f"Put {TRACKING_PLACEHOLDER} where the tracking number goes, "
                f"e.g. https://track.example.com/?id={TRACKING_PLACEHOLDER}."
            )
        try:
            URLValidator(schemes=["http", "https"])(
                template.replace(TRACKING_PLACEHOLDER, "TRACK123")
            )
        except ValidationError:
            raise ValidationError(
                "Enter a full web address starting with https:// or http://."
            ) from None
        return template

    def clean(self) -> dict:
        cleaned = super().clean()
        low, high = cleaned.get("transit_days_min"), cleaned.get("transit_days_max")
        if low is not None and high is not None and low > high:
            # On the field, so the model's check constraint is not reported a second time.
            self.add_error(
                "transit_days_max", f"Must be at least the shortest transit ({low} days)."
            )
        return cleaned
