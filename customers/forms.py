"""Validation of what a person typed into sign-in, password and two-factor forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest

from config.mail import send_templated_email
from customers.models import User
from customers.throttle import Throttle, retry_message

WRONG_CREDENTIALS = "That email and password do not match an account."


class SignInForm(forms.Form):
    """Email and password, throttled per account and address.

    With `staff=True` only active staff get through; everyone else sees the same
    message as for a wrong password, so the form does not reveal who is staff.
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
        throttle = Throttle.for_login(self.request, email)
        wait = throttle.retry_after()
        if wait:
            raise forms.ValidationError(retry_message(wait), code="throttled")
        user = authenticate(self.request, email=email, password=password)
        if user is None or (self.staff and not user.is_staff):
            throttle.record_failure()
            raise forms.ValidationError(WRONG_CREDENTIALS, code="invalid_login")
        throttle.reset_account()
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
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password


class StaffPasswordResetForm(PasswordResetForm):
    """Sends dashboard reset links to staff only, through the project's templated mail."""

    def get_users(self, email: str):
        return (user for user in super().get_users(email) if user.is_staff)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict,
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        send_templated_email(template="staff_password_reset", to=[to_email], context=context)
