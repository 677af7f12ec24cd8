from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from customers.services import roles_sync
from inventory.models import PurchaseOrder, Supplier, SupplierItem
from inventory.purchasing import purchase_order_create, purchase_order_transition
from tests.browser.conftest import PHONE, assert_no_horizontal_scroll
from tests.factories import ProductFactory, StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.users import PASSWORD


def test_warehouse_staff_receive_a_purchase_order_and_see_stock_rise(
    page: Page, live_server, transactional_db, screenshot
):
    roles_sync()
    StaffFactory(email="ines@example.com", full_name="Ines Duarte", role="Warehouse")
    main = WarehouseFactory(code="main", name="Main warehouse")
    variant = VariantFactory(sku="PAN-26", product=ProductFactory(title="Cast Iron Skillet"))
    stock(variant, main, 3)
    supplier = Supplier.objects.create(name="Forge & Field", email="orders@forge.example")
    SupplierItem.objects.create(
        supplier=supplier, variant=variant, unit_cost=Decimal("16.00"), is_preferred=True
    )
    order = purchase_order_create(supplier=supplier, warehouse=main, lines={variant.pk: 12})
    purchase_order_transition(order=order, to=PurchaseOrder.Status.SENT)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/inventory/purchase-orders/")
    page.get_by_label("Email").fill("ines@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=order.number).click()
    page.get_by_label("Units of PAN-26 arrived").fill("12")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.get_by_text("Received into stock")).to_be_visible()
    expect(page.locator(".page-header .badge").first).to_have_text("Received")
    screenshot(page, "inventory-purchase-order-phone")

    page.goto(f"{live_server.url}/dashboard/inventory/stock/?q=PAN-26")
    assert_no_horizontal_scroll(page)  # the inventory tabs once pushed the page sideways
    row = page.get_by_role("row").filter(has_text="PAN-26")
    expect(row).to_contain_text("15")
    row.get_by_role("link").click()
    expect(page.get_by_text(f"purchase_order:{order.number}")).to_be_visible()
    screenshot(page, "inventory-variant-ledger-phone")
