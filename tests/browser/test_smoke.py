from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from customers.services import roles_sync
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import StaffFactory
from tests.factories.users import PASSWORD


@pytest.fixture
def manager(transactional_db):
    roles_sync()
    return StaffFactory(email="maya@example.com", full_name="Maya Lindqvist", role="Manager")


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_staff_signs_in_and_sees_the_dashboard(
    page: Page, live_server, manager, screenshot, size, viewport
):
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(f"{live_server.url}/dashboard/login/?next=%2Fdashboard%2F")
    screenshot(page, f"staff-login-{size}")

    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Good to see you, Maya")).to_be_visible()
    nav = page.get_by_role("navigation", name="Dashboard")
    for pillar in ("Orders", "Catalog", "Inventory", "Fulfillment", "Marketing", "Analytics"):
        expect(nav.get_by_role("link", name=pillar)).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"staff-home-{size}")

    nav.get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Stock", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Inventory")).to_have_attribute("aria-current", "page")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def test_staff_turns_on_two_factor_and_signs_in_with_a_code(
    page: Page, live_server, manager, screenshot
):
    import pyotp

    from customers.models import TOTPDevice

    page.goto(f"{live_server.url}/dashboard/login/")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Turn it on").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    screenshot(page, "staff-2fa-setup-desktop")

    totp = pyotp.TOTP(TOTPDevice.objects.get(user=manager).secret)
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    screenshot(page, "staff-2fa-recovery-codes-desktop")
    recovery = page.locator(".codes code").first.inner_text()

    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("10 recovery codes left")).to_be_visible()
    screenshot(page, "staff-security-desktop")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(recovery)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Good to see you, Maya")).to_be_visible()


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_shopper_opens_the_home_page(page: Page, live_server, screenshot, size, viewport):
    page.set_viewport_size(viewport)
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("console", lambda msg: msg.type == "error" and failed.append(msg.text))
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Everyday goods, made to last")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search products")).to_be_visible()
    header = page.get_by_role("navigation", name="Your account")
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    expect(header.get_by_role("link", name="Cart")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"storefront-home-{size}")
    assert failed == [], f"requests or scripts failed: {failed}"

    page.get_by_role("searchbox", name="Search products").fill("linen")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Results for “linen”")).to_be_visible()
    screenshot(page, f"storefront-search-{size}")


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_role_without_access_gets_a_clear_403(
    page: Page, live_server, transactional_db, screenshot, size, viewport
):
    roles_sync()
    StaffFactory(email="ines@example.com", role="Warehouse")
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/marketing/")
    page.get_by_label("Email").fill("ines@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
    nav = page.get_by_role("navigation", name="Dashboard")
    expect(nav.get_by_role("link", name="Inventory")).to_be_visible()
    expect(nav.get_by_role("link", name="Marketing")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"staff-403-{size}")
