"""Validation of what a person typed into sign-in, password and two-factor forms.

Every form that checks a secret counts the attempt against a throttle first.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.http import HttpRequest

from customers.countries import COUNTRIES, COUNTRY_NAMES
from customers.models import ADDRESS_FIELDS, Address, User
from customers.services import AccountError, user_email_confirmed, user_password_set
from customers.tasks import shopper_password_reset_send_task, staff_password_reset_send_task
from customers.throttle import Throttle, retry_message

WRONG_CREDENTIALS = "That email and password do not match an account."


class SignInForm(forms.Form):
    """Email and password, throttled per account and address.

    `staff=True` (the dashboard) lets only active staff through; everyone else sees the
    wrong-password message, so the form does not reveal who is staff. The storefront
    (`staff=False`) turns staff away: their accounts need the dashboard's second factor.
    """

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args: object, request: HttpRequest, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.staff = staff
        self.user: User | None = None

    def clean(self) -> dict:
        cleaned = super().clean()
        email, password = cleaned.get("email"), cleaned.get("password")
        if not email or not password:
            return cleaned
        throttle = Throttle.for_password(self.request, email)
        wait = throttle.hit()
        if wait:
            raise forms.ValidationError(retry_message(wait), code="throttled")
        user = authenticate(self.request, email=email, password=password)
        if user is None or (self.staff and not user.is_staff):
            raise forms.ValidationError(WRONG_CREDENTIALS, code="invalid_login")
        throttle.succeeded()
        if user.is_staff and not self.staff:
            raise forms.ValidationError(
                "This is a staff account: sign in on the dashboard.", code="staff_account"
            )
        self.user = user
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or a recovery code.",
    )


class AuthenticatorCodeForm(CodeForm):
    """The first code from a freshly scanned app (recovery codes do not exist yet)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "The 6-digit code your authenticator app shows now."


def _check_current_password(user: User, password: str) -> None:
    """Re-checks of a signed-in user's password are throttled too: a stolen session must
    not become an unlimited password oracle."""
    wait = Throttle.for_second_factor(user.pk).hit()
    if wait:
        raise forms.ValidationError(retry_message(wait), code="throttled")
    if not user.check_password(password):
        raise forms.ValidationError("That is not your current password.", code="wrong_password")


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your current password.",
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        _check_current_password(self.user, password)
        return password


class StaffSetPasswordForm(SetPasswordForm):
    """Saves through the service, which also spends a one-time password."""

    def save(self, commit: bool = True) -> User:
        user_password_set(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class StaffPasswordChangeForm(StaffSetPasswordForm, PasswordChangeForm):
    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        _check_current_password(self.user, old_password)
        return old_password


class StaffPasswordResetForm(PasswordResetForm):
    """Reset links for staff only, throttled, and mailed by a worker after the response.

    The answer is the same for any address, and sending happens off the request, so
    neither the reply nor its timing tells whether an address belongs to staff.
    """

    def __init__(self, *args: object, request: HttpRequest | None = None, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if self.request is not None:
            wait = Throttle.for_password_reset(self.request, email).hit()
            if wait:
                raise forms.ValidationError(retry_message(wait), code="throttled")
        return email

    def get_users(self, email: str):
        # Unlike Django's form, staff invited without a password (createstaff
        # --reset-link) may ask again when their first link has expired.
        return User.objects.filter(email__iexact=email, is_active=True, is_staff=True)

    def save(self, *args: object, **kwargs: object) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            transaction.on_commit(
                lambda user_id=user.pk: staff_password_reset_send_task.delay(user_id)
            )


# --- Shopper accounts ------------------------------------------------------------------------


class SignUpForm(forms.Form):
    full_name = forms.CharField(
        label="Name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password and not only digits.",
    )
    accepts_marketing = forms.BooleanField(
        required=False,
        label="Email me news and offers. I can unsubscribe at any time.",
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Sign in, or reset your password.",
                code="email_taken",
            )
        return email

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as err:
                self.add_error("password", err)
        return cleaned


class ShopperPasswordResetForm(StaffPasswordResetForm):
    """The storefront's reset: shoppers only, otherwise as the staff form (same answer
    for any address, throttled, mailed by a worker)."""

    def get_users(self, email: str):
        return User.objects.filter(email__iexact=email, is_active=True, is_staff=False)

    def save(self, *args: object, **kwargs: object) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            transaction.on_commit(
                lambda user_id=user.pk: shopper_password_reset_send_task.delay(user_id)
            )


class ShopperSetPasswordForm(StaffSetPasswordForm):
    """A new password through an emailed link: opening that link proves the address too."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit)
        if user.email_confirmed_at is None:
            # If the record is another account's, the new password still counts.
            with contextlib.suppress(AccountError):
                user_email_confirmed(user=user)
        return user


class ConsentForm(forms.Form):
    accepts_marketing = forms.BooleanField(
        required=False, label="Email me news and offers. I can unsubscribe at any time."
    )


COUNTRY_CHOICES = [("", "Choose a country"), *COUNTRIES]


class AddressForm(forms.ModelForm):
    # No max_length: "Germany" deserves "choose from the list", not "at most 2 characters".
    country = forms.CharField(
        max_length=100,
        widget=forms.Select(choices=COUNTRY_CHOICES, attrs={"autocomplete": "country"}),
        error_messages={"required": "Choose a country."},
    )
    default_shipping = forms.BooleanField(required=False, label="Default shipping address")
    default_billing = forms.BooleanField(required=False, label="Default billing address")

    class Meta:
        model = Address
        fields = list(ADDRESS_FIELDS)
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "company": forms.TextInput(attrs={"autocomplete": "organization"}),
            "line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }
        error_messages = {
            "postal_code": {"required": "Enter the postal code."},
            "line1": {"required": "Enter the street address."},
            "city": {"required": "Enter the city."},
            "full_name": {"required": "Enter the name of the recipient."},
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["default_shipping"].initial = self.instance.is_default_shipping
            self.fields["default_billing"].initial = self.instance.is_default_billing

    def clean_country(self) -> str:
        code = self.cleaned_data["country"].strip().upper()
        if code not in COUNTRY_NAMES:
            raise forms.ValidationError("Choose a country from the list.", code="unknown_country")
        return code

    def clean_postal_code(self) -> str:
        code = " ".join(self.cleaned_data["postal_code"].split()).upper()
        if not code:
            raise forms.ValidationError("Enter the postal code.", code="required")
        return code

    def address_data(self) -> dict[str, str]:
        return {field: self.cleaned_data[field] for field in ADDRESS_FIELDS}
