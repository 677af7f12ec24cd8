from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from analytics.forms import PRESETS, DateRangeForm
from analytics.reports import headlines_report, report
from analytics.selectors import store_today
from config.csvsafe import defuse
from config.staff import staff_required

EXPORTS = ("daily", "sources", "products")


def _money(value) -> str:
    return f"{Decimal(value or 0):.2f}"


def _range_form(request: HttpRequest) -> DateRangeForm:
    if "start" in request.GET or "end" in request.GET:
        return DateRangeForm(request.GET)
    form = DateRangeForm()
    first, last = form.range()
    form.initial = {"start": first, "end": last}
    return form


def _presets() -> list[tuple[str, str, str]]:
    today = store_today()
    return [
        (label, (today - timedelta(days=int(days) - 1)).isoformat(), today.isoformat())
        for days, label in PRESETS
    ]


@staff_required("analytics.access_analytics")
def index(request: HttpRequest) -> HttpResponse:
    form = _range_form(request)
    first, last = form.range()
    context = {
        "form": form,
        "report": report(first=first, last=last),
        "presets": _presets(),
        "query": f"start={first.isoformat()}&end={last.isoformat()}",
        "exports": [(name, reverse("analytics:staff-export", args=[name])) for name in EXPORTS],
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "analytics/staff/index.html#report", context, status=status)
    return render(request, "analytics/staff/index.html", context, status=status)


@staff_required("analytics.access_analytics")
def export(request: HttpRequest, table: str) -> HttpResponse:
    """Every table of the dashboard as CSV, for the chosen range (today so far included)."""
    if table not in EXPORTS:
        raise Http404("No such table.")
    form = _range_form(request)
    if form.is_bound and not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    first, last = form.range()
    data = report(first=first, last=last, top=0)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="kpis-{table}-{first.isoformat()}-{last.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    if table == "daily":
        from analytics.reports import AMOUNTS, SUMMED, Figures

        writer.writerow(
            [
                "day",
                *SUMMED,
                "net_revenue",
                "conversion_rate",
                "average_order_value",
                "cart_abandonment_rate",
                "gross_margin",
                "bounce_rate",
            ]
        )
        for row in data.days:
            figures = Figures()
            figures.add(row)
            writer.writerow(
                [
                    row["day"].isoformat(),
                    *(_money(row[name]) if name in AMOUNTS else row[name] for name in SUMMED),
                    _money(figures.net_revenue),
                    f"{figures.conversion_rate:.4f}",
                    f"{figures.average_order_value:.2f}",
                    f"{figures.cart_abandonment_rate:.4f}",
                    f"{figures.gross_margin:.4f}",
                    f"{figures.bounce_rate:.4f}",
                ]
            )
    elif table == "sources":
        writer.writerow(["source", "sessions", "orders", "revenue", "conversion_rate"])
        for row in data.sources:
            writer.writerow(
                [
                    # Visitors choose their utm_source: never a formula in staff's sheet.
                    defuse(row["source"]),
                    row["sessions"],
                    row["orders"],
                    _money(row["revenue"]),
                    f"{row['conversion_rate']:.4f}",
                ]
            )
    else:
        writer.writerow(["product_id", "product", "views", "add_to_carts", "units", "revenue"])
        for row in data.products:
            writer.writerow(
                [
                    row["product_id"],
                    defuse(row["title"]),
                    row["views"],
                    row["add_to_carts"],
                    row["units"],
                    _money(row["revenue"]),
                ]
            )
    return response


@staff_required("customers.access_dashboard")
def home(request: HttpRequest) -> HttpResponse:
    """The first page after sign-in: where to go next, the state of the account, and the
    headline numbers of the last 7 whole days for those who may see analytics."""
    context = {}
    if request.user.has_perm("analytics.access_analytics"):
        yesterday = store_today() - timedelta(days=1)
        context["report"] = headlines_report(first=yesterday - timedelta(days=6), last=yesterday)
    return render(request, "analytics/staff/home.html", context)
