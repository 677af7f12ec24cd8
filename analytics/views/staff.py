from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("analytics.access_analytics")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/staff/index.html")


@staff_required("customers.access_dashboard")
def home(request: HttpRequest) -> HttpResponse:
    """The first page after sign-in: where to go next, and the state of the account."""
    return render(request, "analytics/staff/home.html")
