from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def cart(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/storefront/cart.html")
