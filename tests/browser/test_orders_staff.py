from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from customers.services import roles_sync
from inventory.models import StockLevel
from orders.services import order_place
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import ProductFactory, StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart
from tests.factories.users import PASSWORD


def test_staff_mark_an_order_paid_refund_a_line_with_restock_and_see_stock_back(
    page: Page, live_server, transactional_db, screenshot
):
    roles_sync()
    StaffFactory(email="mia@example.com", full_name="Mia Manager", role="Manager")
    main = WarehouseFactory(code="main", name="Main warehouse")
    skillet = VariantFactory(
        sku="PAN-26", price=Decimal("40.00"), product=ProductFactory(title="Cast Iron Skillet")
    )
    mug = VariantFactory(sku="MUG-1", price=Decimal("12.00"), product=ProductFactory(title="Mug"))
    stock(skillet, main, 10)
    stock(mug, main, 10)
    order = order_place(cart=ready_cart([(skillet, 2), (mug, 1)]))
    assert StockLevel.objects.get(variant=skillet).allocated == 2

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/orders/")
    page.get_by_label("Email").fill("mia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    row = page.get_by_role("row").filter(has_text=f"#{order.number}")
    expect(row).to_contain_text("Pending payment")
    assert_no_horizontal_scroll(page)
    screenshot(page, "orders-list-desktop")
    row.get_by_role("link", name=f"#{order.number}").click()

    page.get_by_role("button", name="Mark as paid").click()
    header = page.locator("#order-header")
    expect(header.get_by_text("Marked as paid.")).to_be_visible()
    expect(header.locator(".badge").first).to_have_text("Paid")
    # The timeline refreshed itself on "order-updated".
    expect(page.locator("#order-timeline")).to_contain_text("Paid in full.")

    refund = page.locator("#refund-form")
    refund.locator("summary").click()
    refund.get_by_label("Units of PAN-26 to refund").fill("1")
    refund.get_by_label("Reason").fill("Cracked in transit")
    expect(refund.get_by_label("Put refunded units back in stock")).to_be_checked()
    refund.get_by_role("button", name="Refund").click()

    expect(header.get_by_text("Refunded 40.00 EUR.")).to_be_visible()
    expect(header).to_contain_text("Partially refunded")
    timeline = page.locator("#order-timeline")
    expect(timeline).to_contain_text("Refunded 40.00 EUR: Cracked in transit")
    expect(timeline).to_contain_text("1 unit not shipped released back to stock.")
    expect(timeline).to_contain_text("Mia Manager")
    expect(page.locator("#order-body")).to_contain_text("Cracked in transit")  # refunds table
    screenshot(page, "orders-detail-refunded-desktop")
    assert StockLevel.objects.get(variant=skillet).allocated == 1

    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    screenshot(page, "orders-detail-phone")
    page.goto(f"{live_server.url}/dashboard/orders/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "orders-list-phone")

    # Stock is back on the inventory page: 10 on hand, 1 still allocated, 9 available.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/inventory/stock/?q=PAN-26")
    stock_row = page.get_by_role("row").filter(has_text="PAN-26")
    expect(stock_row.locator("td.num").nth(1)).to_have_text("1")
    expect(stock_row.locator("td.num").nth(2)).to_have_text("9")
