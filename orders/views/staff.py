from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("orders.access_orders")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/staff/index.html")


@staff_required("orders.view_order")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    raise Http404  # built on the staff branch
