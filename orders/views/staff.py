from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("orders.access_orders")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/staff/index.html")
