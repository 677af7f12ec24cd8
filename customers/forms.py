"""Validation of what a person typed into sign-in, password and two-factor forms.

Every form that checks a secret counts the attempt against a throttle first.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.http import HttpRequest

from customers.models import User
from customers.services import user_password_set
from customers.tasks import staff_password_reset_send_task
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
