"""Dashboard sign-in, sign-out, password reset and change, and two-factor set-up."""

from __future__ import annotations

import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from config.staff import STAFF_SESSION_KEY, staff_required
from customers.forms import (
    AuthenticatorCodeForm,
    CodeForm,
    PasswordConfirmForm,
    SignInForm,
    StaffPasswordChangeForm,
    StaffPasswordResetForm,
    StaffSetPasswordForm,
)
from customers.models import User
from customers.selectors import recovery_codes_left, totp_provisioning_uri
from customers.services import (
    StaffError,
    recovery_codes_regenerate,
    second_factor_verify,
    totp_device_confirm,
    totp_device_remove,
    totp_device_start,
)
from customers.throttle import Throttle, retry_message

PENDING_KEY = "staff_pending_second_factor"
# How long the password step stays good while the member finds their phone.
PENDING_SECONDS = 300
# Wrong codes allowed in one pending sign-in before the password must be entered again.
PENDING_ATTEMPTS = 5
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _complete_sign_in(request: HttpRequest, user: User) -> None:
    login(request, user, backend=MODEL_BACKEND)
    request.session[STAFF_SESSION_KEY] = True
    # A staff session is shorter than a shopper's: it opens every customer's data.
    request.session.set_expiry(settings.STAFF_SESSION_SECONDS)


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.session.get(STAFF_SESSION_KEY):
        return redirect(next_url)
    form = SignInForm(request.POST or None, request=request, staff=True)
    if request.method == "POST" and form.is_valid():
        user = form.user
        if user.has_totp:
            request.session[PENDING_KEY] = {"user": user.pk, "at": time.time(), "next": next_url}
            return redirect("customers:staff-login-verify")
        _complete_sign_in(request, user)
        return redirect(next_url)
    return render(request, "customers/staff/login.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def staff_login_verify(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY) or {}
    user = User.objects.filter(pk=pending.get("user"), is_active=True, is_staff=True).first()
    if user is None or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Sign in again to continue.")
        return redirect("customers:staff-login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttle = Throttle.for_second_factor(user.pk)
        wait = throttle.hit()
        if wait:
            form.add_error(None, retry_message(wait))
        elif second_factor_verify(user=user, code=form.cleaned_data["code"]):
            throttle.succeeded()
            del request.session[PENDING_KEY]
            _complete_sign_in(request, user)
            return redirect(pending["next"])
        else:
            pending["failures"] = pending.get("failures", 0) + 1
            if pending["failures"] >= PENDING_ATTEMPTS:
                del request.session[PENDING_KEY]
                messages.error(request, "Too many wrong codes. Sign in again.")
                return redirect("customers:staff-login")
            request.session[PENDING_KEY] = pending
            form.add_error("code", "That code is not valid. Check it and try again.")
    return render(request, "customers/staff/login_verify.html", {"form": form})


@require_POST
def staff_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("customers:staff-login")


@staff_required("customers.access_dashboard", setup_step=True)
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def staff_password_change(request: HttpRequest) -> HttpResponse:
    form = StaffPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Your password is changed.")
        return redirect("customers:staff-security")
    return render(request, "customers/staff/password_change.html", {"form": form})


def _security_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    user = request.user
    return {
        "two_factor_on": user.has_totp,
        "two_factor_required": user.needs_second_factor_setup(),
        "codes_left": recovery_codes_left(user=user) if user.has_totp else 0,
        "password_form": PasswordConfirmForm(user=user),
        **extra,
    }


@staff_required("customers.access_dashboard", setup_step=True)
def staff_security(request: HttpRequest) -> HttpResponse:
    return render(request, "customers/staff/security.html", _security_context(request))


@never_cache
@staff_required("customers.access_dashboard", setup_step=True)
@require_http_methods(["GET", "POST"])
def staff_totp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.has_totp:
        return redirect("customers:staff-security")
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = totp_device_confirm(user=user, code=form.cleaned_data["code"])
        except StaffError as err:
            form.add_error("code", str(err))
        else:
            messages.success(request, "Two-factor authentication is on.")
            return render(request, "customers/staff/recovery_codes.html", {"codes": codes})
    device = totp_device_start(user=user)
    uri = totp_provisioning_uri(device=device)
    context = {
        "form": form,
        "secret": device.secret,
        "qr_data_uri": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
        "required": user.needs_second_factor_setup(),
    }
    return render(request, "customers/staff/totp_setup.html", context)


@never_cache
@staff_required("customers.access_dashboard", setup_step=True)
@require_POST
def staff_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not form.is_valid():
        context = _security_context(request, password_form=form)
        return render(request, "customers/staff/security.html", context, status=400)
    try:
        codes = recovery_codes_regenerate(user=request.user)
    except StaffError as err:
        messages.error(request, str(err))
        return redirect("customers:staff-security")
    return render(request, "customers/staff/recovery_codes.html", {"codes": codes})


@staff_required("customers.access_dashboard", setup_step=True)
@require_POST
def staff_totp_remove(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not form.is_valid():
        context = _security_context(request, password_form=form)
        return render(request, "customers/staff/security.html", context, status=400)
    try:
        totp_device_remove(user=request.user)
    except StaffError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, "Two-factor authentication is off.")
    return redirect("customers:staff-security")


# Password reset by email: Django's views, our templates, and forms that throttle, mail
# through a worker and save through the service.
class StaffPasswordReset(auth_views.PasswordResetView):
    template_name = "customers/staff/password_reset.html"
    form_class = StaffPasswordResetForm
    success_url = reverse_lazy("customers:staff-password-reset-done")

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}


staff_password_reset = StaffPasswordReset.as_view()
staff_password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="customers/staff/password_reset_done.html"
)
staff_password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="customers/staff/password_reset_confirm.html",
    form_class=StaffSetPasswordForm,
    success_url=reverse_lazy("customers:staff-password-reset-complete"),
)
staff_password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="customers/staff/password_reset_complete.html"
)
