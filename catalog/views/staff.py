from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("catalog.access_catalog")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/staff/index.html")
