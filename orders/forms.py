"""Validation of what a person typed into orders forms (storefront: cart and checkout)."""

from __future__ import annotations

import re

from django import forms

from orders.services import MAX_LINE_QUANTITY

# Names for the countries a store is likely to ship to; any other code shows as itself.
COUNTRY_NAMES = {
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "CA": "Canada",
    "CH": "Switzerland",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "LI": "Liechtenstein",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MT": "Malta",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SE": "Sweden",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "US": "United States",
}

# Postal code formats checked at checkout: (pattern, example for the message).
POSTAL_CODES = {
    "DE": (r"\d{5}", "5 digits, like 10115"),
    "AT": (r"\d{4}", "4 digits, like 1010"),
    "CH": (r"\d{4}", "4 digits, like 8001"),
    "FR": (r"\d{5}", "5 digits, like 75001"),
    "IT": (r"\d{5}", "5 digits, like 00184"),
    "ES": (r"\d{5}", "5 digits, like 28001"),
    "NL": (r"\d{4} ?[A-Za-z]{2}", "4 digits and 2 letters, like 1012 AB"),
    "BE": (r"\d{4}", "4 digits, like 1000"),
    "DK": (r"\d{4}", "4 digits, like 1050"),
    "PL": (r"\d{2}-\d{3}", "like 00-950"),
    "US": (r"\d{5}(-\d{4})?", "a ZIP code like 94103 or 94103-1234"),
    "GB": (
        r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}",
        "a postcode like SW1A 1AA",
    ),
}


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code.upper(), code.upper()) if code else ""


def postal_code_normalise(country: str, value: str) -> str:
    value = " ".join(value.split()).upper()
    if country == "NL" and re.fullmatch(r"\d{4}[A-Z]{2}", value):
        return f"{value[:4]} {value[4:]}"
    if country == "GB" and " " not in value and len(value) >= 5:
        return f"{value[:-3]} {value[-3:]}"
    return value


class AddToCartForm(forms.Form):
    variant = forms.IntegerField(min_value=1, error_messages={"required": "Choose an option."})
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)
    # The minus and plus buttons send a step; typing a number sends none.
    step = forms.IntegerField(required=False, min_value=-1, max_value=1)

    def wanted(self) -> int:
        quantity = self.cleaned_data["quantity"] + (self.cleaned_data.get("step") or 0)
        return max(0, min(quantity, MAX_LINE_QUANTITY))


class VoucherForm(forms.Form):
    code = forms.CharField(
        label="Discount code", max_length=40, error_messages={"required": "Enter a code."}
    )


class ContactForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={"required": "Enter your email address so we can send the receipt."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    accepts_marketing = forms.BooleanField(
        label="Send me news and offers (unsubscribe at any time)", required=False
    )


class AddressForm(forms.Form):
    """A shipping or billing address; the country list is the countries we ship to."""

    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={"required": "Enter the name of the person receiving the parcel."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    company = forms.CharField(
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    line1 = forms.CharField(
        label="Street and number",
        max_length=200,
        error_messages={"required": "Enter the street and house number."},
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label="Apartment, floor, etc.",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        error_messages={"required": "Enter the postal code."},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        max_length=100,
        error_messages={"required": "Enter the town or city."},
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    region = forms.CharField(
        label="State / region",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    country = forms.ChoiceField(
        error_messages={
            "required": "Choose a country.",
            "invalid_choice": "We don't ship to that country.",
        },
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    phone = forms.CharField(
        label="Phone",
        max_length=40,
        required=False,
        help_text="For the courier, if they need to reach you.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def __init__(self, *args, countries: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [
            ("", "Choose…"),
            *sorted(((code, country_name(code)) for code in countries), key=lambda pair: pair[1]),
        ]
        if len(countries) == 1 and not self.is_bound and not self.initial.get("country"):
            self.initial["country"] = countries[0]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"\+?[\d\s().\-/]{5,40}", phone):
            raise forms.ValidationError(
                "Enter a phone number with digits only, like +49 30 1234567."
            )
        return phone

    def clean(self) -> dict:
        data = super().clean()
        country = data.get("country")
        postal = data.get("postal_code")
        if country and postal:
            rule = POSTAL_CODES.get(country)
            value = postal_code_normalise(country, postal)
            if rule and not re.fullmatch(rule[0], value):
                self.add_error(
                    "postal_code",
                    f"That is not a postal code of {country_name(country)}: use {rule[1]}.",
                )
            else:
                data["postal_code"] = value
        if country == "US" and not (data.get("region") or "").strip():
            self.add_error("region", "Enter the state.")
        return data

    def address(self) -> dict[str, str]:
        return {name: (self.cleaned_data.get(name) or "").strip() for name in self.fields}


class SavedAddressForm(forms.Form):
    """A signed-in shopper picks one of their saved addresses."""

    address = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Choose an address.",
            "invalid_choice": "Choose one of your saved addresses.",
        },
    )

    def __init__(self, *args, addresses: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.addresses = {address.pk: address for address in addresses}
        self.fields["address"].choices = [(address.pk, str(address)) for address in addresses]

    def chosen(self):
        return self.addresses[self.cleaned_data["address"]]


class ShippingMethodForm(forms.Form):
    method = forms.TypedChoiceField(
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a shipping method.",
            "invalid_choice": "That shipping method does not deliver to your address.",
        },
    )

    def __init__(self, *args, methods: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.methods = {method.pk: method for method in methods}
        self.fields["method"].choices = [(method.pk, method.name) for method in methods]

    def chosen(self):
        return self.methods[self.cleaned_data["method"]]


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how to pay.",
            "invalid_choice": "That payment method is not available.",
        },
    )

    def __init__(self, *args, providers: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(p.code, p.label) for p in providers]
