from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("fulfillment.access_fulfillment")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "fulfillment/staff/index.html")
