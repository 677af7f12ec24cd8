"""Paying an order: the Stripe Payment Element, or manual instructions; retry after a failure."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def pay(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404  # built on the payments branch
