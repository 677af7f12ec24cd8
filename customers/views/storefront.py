"""Shopper accounts: sign up, sign in and out, email confirmation, password reset, the
account page with marketing consent, and saved addresses."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import (
    AddressForm,
    ConsentForm,
    ShopperPasswordResetForm,
    ShopperSetPasswordForm,
    SignInForm,
    SignUpForm,
)
from customers.models import Customer, User
from customers.records import customer_consent_set
from customers.selectors import address_get_for_user_or_404, addresses_of, customer_of
from customers.services import (
    AccountError,
    address_delete,
    address_save,
    address_set_default,
    email_confirmation_request,
    shopper_sign_up,
    user_email_confirm,
)
from customers.throttle import Throttle, retry_message

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# The orders app serves the order history; a literal path because customers sits below it.
ORDER_HISTORY_URL = "/account/orders/"
account_required = login_required(login_url="customers:account-login")


def _next_url(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return reverse("customers:account")
    return next_url


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account_login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    form = SignInForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend=MODEL_BACKEND)
        return redirect(next_url)
    return render(request, "customers/storefront/login.html", {"form": form, "next": next_url})


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account_signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("customers:account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = shopper_sign_up(**form.cleaned_data)
        login(request, user, backend=MODEL_BACKEND)
        messages.success(
            request, f"Welcome! We sent a link to {user.email}: open it to confirm your email."
        )
        return redirect(_next_url(request))
    return render(
        request, "customers/storefront/signup.html", {"form": form, "next": _next_url(request)}
    )


@require_POST
def account_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("catalog:home")


@never_cache
def account_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the emailed link proves the address: the account claims its past orders."""
    try:
        user = user_email_confirm(token=token)
    except AccountError as err:
        context = {"error": str(err)}
        return render(request, "customers/storefront/confirm_failed.html", context, status=400)
    messages.success(request, "Your email is confirmed. Orders placed with it are in your account.")
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("customers:account")
    return redirect(f"{reverse('customers:account-login')}?next={reverse('customers:account')}")


@account_required
@require_POST
def account_confirm_resend(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    if user.email_confirmed_at is not None:
        messages.info(request, "Your email is already confirmed.")
    elif wait := Throttle.for_confirmation_email(user.pk).hit():
        messages.error(request, retry_message(wait).replace("failed attempts", "requests"))
    else:
        email_confirmation_request(user=user)
        messages.success(request, f"We sent a new link to {user.email}.")
    return redirect("customers:account")


def _account_context(request: HttpRequest, customer: Customer | None, **extra) -> dict:
    consent = ConsentForm(
        initial={"accepts_marketing": customer.accepts_marketing if customer else False}
    )
    return {
        "customer": customer,
        "consent_form": consent,
        "orders_url": ORDER_HISTORY_URL,
        "confirmed": request.user.email_confirmed_at is not None,
        **extra,
    }


@account_required
def account(request: HttpRequest) -> HttpResponse:
    customer = customer_of(request.user)
    return render(request, "customers/storefront/account.html", _account_context(request, customer))


@account_required
@require_POST
def account_consent(request: HttpRequest) -> HttpResponse:
    customer = customer_of(request.user)
    if customer is None:
        raise Http404("Confirm your email first.")
    form = ConsentForm(request.POST)
    form.is_valid()  # a checkbox: absent means no
    accepts = form.cleaned_data.get("accepts_marketing", False)
    customer_consent_set(customer=customer, accepts=accepts, source="account")
    saved = "You will get our news and offers." if accepts else "You will get no marketing email."
    if request.htmx:
        context = _account_context(request, customer, consent_saved=saved)
        return render(request, "customers/storefront/account.html#consent", context)
    messages.success(request, saved)
    return redirect("customers:account")


# --- Addresses --------------------------------------------------------------------------------


def _customer_or_redirect(request: HttpRequest) -> Customer | HttpResponse:
    customer = customer_of(request.user)
    if customer is None:
        messages.info(request, "Confirm your email to save addresses: open the link we sent.")
        return redirect("customers:account")
    return customer


@account_required
def address_list(request: HttpRequest) -> HttpResponse:
    customer = _customer_or_redirect(request)
    if isinstance(customer, HttpResponse):
        return customer
    context = {"customer": customer, "addresses": addresses_of(customer=customer)}
    if request.htmx:
        return render(request, "customers/storefront/addresses.html#address-list", context)
    return render(request, "customers/storefront/addresses.html", context)


@account_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    customer = _customer_or_redirect(request)
    if isinstance(customer, HttpResponse):
        return customer
    address = address_get_for_user_or_404(user=request.user, pk=pk) if pk else None
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        address_save(
            customer=customer,
            address=address,
            data=form.address_data(),
            default_shipping=form.cleaned_data["default_shipping"],
            default_billing=form.cleaned_data["default_billing"],
        )
        messages.success(request, "Address saved." if address else "Address added.")
        return redirect("customers:account-addresses")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "address": address}
    return render(request, "customers/storefront/address_form.html", context, status=status)


@account_required
@require_POST
def address_remove(request: HttpRequest, pk: int) -> HttpResponse:
    address = address_get_for_user_or_404(user=request.user, pk=pk)
    address_delete(address=address)
    messages.success(request, "Address deleted.")
    return _addresses_answer(request, address.customer)


@account_required
@require_POST
def address_default(request: HttpRequest, pk: int) -> HttpResponse:
    address = address_get_for_user_or_404(user=request.user, pk=pk)
    try:
        address_set_default(address=address, kind=request.POST.get("kind", ""))
    except AccountError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, "Default address changed.")
    return _addresses_answer(request, address.customer)


def _addresses_answer(request: HttpRequest, customer: Customer) -> HttpResponse:
    if request.htmx:
        context = {"customer": customer, "addresses": addresses_of(customer=customer)}
        return render(request, "customers/storefront/addresses.html#address-list", context)
    return redirect("customers:account-addresses")


# --- Password reset: Django's views, our templates and forms ---------------------------------


class ShopperPasswordReset(auth_views.PasswordResetView):
    template_name = "customers/storefront/password_reset.html"
    form_class = ShopperPasswordResetForm
    success_url = reverse_lazy("customers:account-password-reset-done")

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}


class ShopperPasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "customers/storefront/password_reset_confirm.html"
    form_class = ShopperSetPasswordForm
    success_url = reverse_lazy("customers:account-password-reset-complete")

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        # Staff reset on the dashboard, where their second factor is asked.
        return None if user is None or user.is_staff else user


account_password_reset = ShopperPasswordReset.as_view()
account_password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="customers/storefront/password_reset_done.html"
)
account_password_reset_confirm = ShopperPasswordResetConfirm.as_view()
account_password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="customers/storefront/password_reset_complete.html"
)
