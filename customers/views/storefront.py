"""Shopper sign-in and the account page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import SignInForm


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account_login(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("customers:account")
    form = SignInForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(next_url)
    return render(request, "customers/storefront/login.html", {"form": form, "next": next_url})


@require_POST
def account_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("catalog:home")


@login_required(login_url="customers:account-login")
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "customers/storefront/account.html")
