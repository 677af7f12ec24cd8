"""Staff pages keep to the screen: wide tables scroll in their own box, grids do not push the
page sideways, an order's three states are named and dashboard amounts stay on one line."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from customers.models import Customer
from customers.services import roles_sync
from orders.models import Order
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import StaffFactory
from tests.factories.users import PASSWORD
from tests.orders.test_views_staff_list import make_orders

# A table as wide as its box or narrower, or one that scrolls inside a box of its own.
TABLES = """() => [...document.querySelectorAll('table')].map(table => {
  const box = table.closest('.table-wrap');
  return {
    fits: box !== null && table.scrollWidth <= box.clientWidth,
    scrolls: box !== null && getComputedStyle(box).overflowX === 'auto',
  };
})"""


def sign_in(page: Page, live_server, next_url: str) -> None:
    roles_sync()
    StaffFactory(email="mia@example.com", full_name="Mia Manager", role="Manager")
    page.goto(f"{live_server.url}/dashboard/login/?next={next_url}")
    page.get_by_label("Email").fill("mia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_orders_list_fits_a_desktop_and_names_each_state_on_a_phone(
    page: Page, live_server, transactional_db, screenshot
):
    ada = Customer.objects.create(
        email="ada.lovelace-longname@example.net", full_name="Ada Lovelace-Byron"
    )
    make_orders(
        3,
        customer=ada,
        status=Order.Status.PARTIALLY_FULFILLED,
        payment_status=Order.PaymentStatus.PARTIALLY_REFUNDED,
        fulfillment_status=Order.FulfillmentStatus.PARTIAL,
    )
    Order.objects.update(total=Decimal("12480.50"), currency="EUR")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, "/dashboard/orders/")
    expect(page.get_by_text("3 orders")).to_be_visible()
    assert page.evaluate(TABLES) == [{"fits": True, "scrolls": True}]
    assert_no_horizontal_scroll(page)
    expect(page.get_by_role("cell", name="12480.50 EUR").first).to_be_visible()
    screenshot(page, "staff-layout-orders-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    row = page.locator(".table--orders tbody tr").first
    for key in ("Order", "Payment", "Fulfillment"):
        expect(row.locator(".status-pair__key", has_text=key)).to_be_visible()
    assert_no_horizontal_scroll(page)


def test_customer_page_keeps_its_side_column_readable_on_a_desktop(
    page: Page, live_server, transactional_db, screenshot
):
    ada = Customer.objects.create(email="ada@example.net", full_name="Ada Lovelace")
    make_orders(4, customer=ada)
    Order.objects.update(total=Decimal("1248.50"), currency="EUR")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, f"/dashboard/customers/{ada.pk}/")
    expect(page.locator(".table--orders tbody tr")).to_have_count(4)  # loaded with htmx
    assert_no_horizontal_scroll(page)
    badge = page.get_by_text("Does not accept")
    expect(badge).to_be_visible()
    assert badge.bounding_box()["height"] < 30  # one line, not a word (or a letter) a line
    for table in page.evaluate(TABLES):
        assert table["scrolls"]
    screenshot(page, "staff-layout-customer-desktop")


def test_a_wide_table_scrolls_inside_its_box_on_a_phone(page: Page, live_server, transactional_db):
    make_orders(2)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "/dashboard/customers/")
    expect(page.locator("table")).to_be_visible()
    tables = page.evaluate(TABLES)
    assert tables
    assert all(table["scrolls"] for table in tables)
    assert not all(table["fits"] for table in tables)  # this one is wider than a phone
    assert_no_horizontal_scroll(page)
