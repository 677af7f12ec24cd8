"""Helpers for views that answer both full page loads and htmx requests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect


def redirect_for(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect the whole page: htmx would otherwise swap the target page into a fragment."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
