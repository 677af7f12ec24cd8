from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from analytics.models import DailyKpi, DailySourceKpi
from analytics.selectors import store_today
from customers.services import roles_sync
from tests.browser.conftest import PHONE, assert_no_horizontal_scroll
from tests.factories import StaffFactory
from tests.factories.users import PASSWORD


def test_staff_change_the_kpi_date_range_and_the_charts_change(
    page: Page, live_server, transactional_db, screenshot
):
    roles_sync()
    StaffFactory(email="mara@example.com", full_name="Mara Quinn", role="Marketing")
    today = store_today()
    for offset in range(1, 61):
        day = today - timedelta(days=offset)
        # Revenue climbs over the last week and was a sawtooth before it.
        revenue = (
            Decimal(1000 + (7 - offset) * 150) if offset <= 7 else Decimal(300 + offset % 5 * 90)
        )
        DailyKpi.objects.create(
            day=day,
            sessions=200,
            orders=10 + offset % 3,
            gross_revenue=revenue,
            carts_created=30,
            carts_abandoned=12,
            product_views=120,
            add_to_carts=40,
            checkouts_started=20,
        )
        DailySourceKpi.objects.create(day=day, source="newsletter", sessions=200, orders=10)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/analytics/")
    page.get_by_label("Email").fill("mara@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    revenue_chart = page.locator(".chart polyline").first
    before = revenue_chart.get_attribute("points")
    revenue_before = page.locator('[data-kpi="gross_revenue"] .kpi__value').inner_text()
    expect(page.get_by_text("Checkout started")).to_be_visible()
    screenshot(page, "analytics-dashboard-desktop")

    page.get_by_role("link", name="Last 7 days").click()
    expect(page.locator("#report")).to_have_attribute(
        "data-range", f"{(today - timedelta(days=6)).isoformat()}/{today.isoformat()}"
    )
    after = page.locator(".chart polyline").first.get_attribute("points")
    assert after != before
    assert page.locator('[data-kpi="gross_revenue"] .kpi__value').inner_text() != revenue_before
    assert "start=" in page.url  # the range is in the address, so it can be shared

    # Typing a start date swaps the report too.
    page.set_viewport_size(PHONE)
    start = (today - timedelta(days=20)).isoformat()
    page.get_by_role("textbox", name="From").fill(start)
    page.get_by_role("textbox", name="From").dispatch_event("change")
    expect(page.locator("#report")).to_have_attribute("data-range", f"{start}/{today.isoformat()}")
    assert page.locator(".chart polyline").first.get_attribute("points") not in (before, after)
    assert_no_horizontal_scroll(page)
    screenshot(page, "analytics-dashboard-phone")
