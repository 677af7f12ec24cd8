from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


def cart(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/storefront/cart.html")


def order_status(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404  # built on the storefront branch


def account_orders(request: HttpRequest) -> HttpResponse:
    raise Http404  # built on the storefront branch


def account_order(request: HttpRequest, number: str) -> HttpResponse:
    raise Http404  # built on the storefront branch
