from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("customers.access_customers")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "customers/staff/index.html")
