from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import DailyKpi, DailyProductKpi, DailySourceKpi, Visit
from analytics.selectors import store_today
from tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db
URL = reverse("analytics:staff-index")


def kpi(day, **figures):
    defaults = {"sessions": 100, "orders": 5, "gross_revenue": Decimal("500.00")}
    return DailyKpi.objects.create(day=day, **{**defaults, **figures})


@pytest.fixture
def year(db):
    """Two weeks of rolled-up days: the last 7 (before today) sell twice what the 7 before did."""
    today = store_today()
    product = ProductFactory(title="Blue Teapot")
    for offset in range(1, 15):
        day = today - timedelta(days=offset)
        recent = offset <= 7
        kpi(
            day,
            sessions=100,
            orders=10 if recent else 5,
            gross_revenue=Decimal("1000.00") if recent else Decimal("500.00"),
            carts_created=20,
            carts_abandoned=10 if recent else 15,
            product_views=60,
            add_to_carts=30,
            checkouts_started=15,
            cost_of_goods=Decimal("400.00") if recent else Decimal("200.00"),
        )
        DailySourceKpi.objects.create(
            day=day, source="google", sessions=100, orders=10, revenue=Decimal("1000.00")
        )
        DailyProductKpi.objects.create(
            day=day, product=product, views=60, add_to_carts=30, units=4, revenue=Decimal("80.00")
        )
    return today


def week(today):
    return {
        "start": (today - timedelta(days=7)).isoformat(),
        "end": (today - timedelta(days=1)).isoformat(),
    }


def test_dashboard_shows_headlines_with_change_charts_funnel_products_sources(
    client, staff_login, owner, year, django_assert_max_num_queries
):
    staff_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(URL, week(year))
    assert response.status_code == 200
    html = response.content.decode()
    headlines = {h.key: h for h in response.context["report"].headlines}
    assert headlines["gross_revenue"].value == Decimal("7000.00")
    assert headlines["gross_revenue"].change == Decimal(100)  # 3500 -> 7000
    assert headlines["orders"].value == 70
    assert headlines["conversion"].value == Decimal("0.1")  # 70 / 700
    assert headlines["aov"].value == Decimal(100)
    assert headlines["abandonment"].value == Decimal("0.5")  # 70 / 140
    assert headlines["abandonment"].change == Decimal(-25)  # 75 % -> 50 %: points
    assert headlines["abandonment"].tone == "good"
    assert headlines["orders"].tone == "good"
    assert headlines["margin"].value == Decimal("0.6")  # (7000 - 2800) / 7000
    assert "+100.0 % vs previous period" in html
    assert html.count("<polyline") == 4
    assert "Checkout started" in html
    assert "Blue Teapot" in html
    assert "google" in html
    assert "chart.js" not in html.lower()
    assert "cdn" not in html.lower()


def test_changing_the_range_changes_the_figures_and_the_chart(client, staff_login, owner, year):
    staff_login(owner)
    recent = client.get(URL, week(year)).context["report"]
    earlier = client.get(
        URL,
        {
            "start": (year - timedelta(days=14)).isoformat(),
            "end": (year - timedelta(days=8)).isoformat(),
        },
    ).context["report"]
    assert recent.current.gross_revenue == 7000
    assert earlier.current.gross_revenue == 3500
    assert earlier.previous.gross_revenue == 0  # nothing rolled up before


def test_htmx_date_range_swaps_only_the_report(client, staff_login, owner, year):
    staff_login(owner)
    response = client.get(URL, week(year), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="report"')
    assert "<html" not in html


def test_today_is_counted_live_without_a_rollup(client, staff_login, owner):
    now = timezone.now()
    Visit.objects.create(
        key="t" * 32,
        visitor_key="v" * 32,
        started_at=now,
        last_seen_at=now,
        landing_path="/",
        source="newsletter",
        device="mobile",
    )
    staff_login(owner)
    response = client.get(URL)
    report = response.context["report"]
    assert report.current.sessions == 1
    assert report.sources[0]["source"] == "newsletter"
    assert not DailyKpi.objects.exists()  # read, not written


def test_an_impossible_range_is_refused_clearly_and_shows_the_default(client, staff_login, owner):
    staff_login(owner)
    today = store_today()
    response = client.get(
        URL, {"start": today.isoformat(), "end": (today - timedelta(days=3)).isoformat()}
    )
    assert response.status_code == 400
    assert "The start must be on or before the end." in response.content.decode()
    assert response.context["report"].last == today
    response = client.get(URL, {"start": "yesterday"})
    assert response.status_code == 400


def test_csv_export_of_every_table(client, staff_login, owner, year):
    staff_login(owner)
    params = week(year)
    daily = client.get(reverse("analytics:staff-export", args=["daily"]), params)
    assert daily["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(daily.content.decode())))
    assert len(rows) == 7
    assert rows[0]["day"] == params["start"]
    assert (rows[0]["orders"], rows[0]["gross_revenue"], rows[0]["conversion_rate"]) == (
        "10",
        "1000.00",
        "0.1000",
    )
    sources = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("analytics:staff-export", args=["sources"]), params
                ).content.decode()
            )
        )
    )
    assert sources == [
        {
            "source": "google",
            "sessions": "700",
            "orders": "70",
            "revenue": "7000.00",
            "conversion_rate": "0.1000",
        }
    ]
    products = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("analytics:staff-export", args=["products"]), params
                ).content.decode()
            )
        )
    )
    assert products[0]["product"] == "Blue Teapot"
    assert (products[0]["units"], products[0]["revenue"]) == ("28", "560.00")


def test_export_refuses_unknown_tables_and_bad_ranges(client, staff_login, owner):
    staff_login(owner)
    assert client.get(reverse("analytics:staff-export", args=["secrets"])).status_code == 404
    bad = client.get(reverse("analytics:staff-export", args=["daily"]), {"end": "2999-01-01"})
    assert bad.status_code == 400
    assert "cannot end after today" in bad.content.decode()


@pytest.mark.parametrize(
    "url",
    [URL, reverse("analytics:staff-export", args=["daily"])],
)
def test_analytics_needs_the_permission_and_a_sign_in(client, staff_login, roles, url):
    assert client.get(url).status_code == 302
    assert reverse("customers:staff-login") in client.get(url)["Location"]
    staff_login(StaffFactory(role="Warehouse"))
    assert client.get(url).status_code == 403
    staff_login(StaffFactory(role="Marketing"))
    assert client.get(url).status_code == 200


def test_home_adds_headlines_for_analytics_staff_only(client, staff_login, owner, year):
    home = reverse("analytics:staff-home")
    staff_login(owner)
    response = client.get(home)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your areas" in html
    assert "Last 7 days" in html
    assert 'data-kpi="gross_revenue"' in html
    staff_login(StaffFactory(role="Warehouse"))
    html = client.get(home).content.decode()
    assert "Your areas" in html
    assert 'data-kpi="gross_revenue"' not in html


def test_a_range_with_today_adds_only_todays_live_queries(
    client, staff_login, owner, year, django_assert_max_num_queries
):
    staff_login(owner)
    # The stored days as before, plus today's figures from the rollup's own aggregations
    # (8 overall parts, 2 source parts, 3 product parts), whatever the range's length.
    with django_assert_max_num_queries(25):
        response = client.get(URL, {"start": (year - timedelta(days=365)).isoformat()})
    assert response.status_code == 200
    assert response.context["report"].days[-1]["day"] == year
