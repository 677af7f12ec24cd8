from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.staff import staff_required


@staff_required("marketing.access_marketing")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "marketing/staff/index.html")
