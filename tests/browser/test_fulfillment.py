from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from customers.services import roles_sync
from fulfillment.emails import status_token
from fulfillment.models import Carrier, CarrierRate, CarrierService, ReturnRequest
from inventory.models import StockLevel, StockMovement
from orders.models import Order
from orders.services import order_mark_paid, order_place
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import ProductFactory, StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ShippingMethodFactory, ready_cart
from tests.factories.users import PASSWORD


def test_staff_pick_pack_ship_then_the_shopper_returns_and_staff_refund(
    page: Page, live_server, transactional_db, screenshot, settings
):
    settings.FULFILLMENT_CUTOFF = "23:59"  # whatever the hour, today's orders are due today
    roles_sync()
    # A Manager: packing is the Warehouse role's, but sending money back is not.
    staff = StaffFactory(email="tom@example.com", full_name="Tom Okafor", role="Manager")
    main = WarehouseFactory(code="main", name="Main warehouse")
    product = ProductFactory(title="Linen Shirt")
    small = VariantFactory(product=product, sku="SHIRT-S", title="S", price=Decimal("40.00"))
    mug = VariantFactory(product=ProductFactory(title="Stoneware Mug"), sku="MUG-1")
    for variant, where in ((small, "B-02"), (mug, "A-01")):
        stock(variant, main, 10)
        StockLevel.objects.filter(variant=variant).update(bin_location=where)
    method = ShippingMethodFactory(name="Standard", max_days=4)
    carrier = Carrier.objects.create(code="parcelco", name="Parcel Co")
    service = CarrierService.objects.create(
        carrier=carrier,
        code="std",
        name="Standard",
        transit_days_max=2,
        tracking_url_template="https://track.example/{tracking}",
    )
    CarrierRate.objects.create(service=service, zone=method.zone, max_weight_grams=5000, price=5)
    order = order_place(
        cart=ready_cart([(small, 2), (mug, 1)], email="guest@example.net", method=method)
    )
    order_mark_paid(order=order, actor=staff)

    # Staff: the queue, a pick list, then the pack bench.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/fulfillment/")
    page.get_by_label("Email").fill("tom@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="To ship from Main warehouse")).to_be_visible()
    expect(page.get_by_label(f"Pick order {order.number}")).to_be_checked()
    screenshot(page, "fulfillment-queue-desktop")
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Pick list for the ticked orders").click()
    pick = popup.value
    expect(pick.get_by_role("heading", name="Pick list · Main warehouse")).to_be_visible()
    rows = pick.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("A-01")  # bin order: the mug's aisle first
    expect(rows.nth(2)).to_contain_text("SHIRT-S")
    screenshot(pick, "fulfillment-pick-list")
    pick.close()

    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="Pack").click()
    scan = page.get_by_label("Scan or type SKU / barcode")
    scan.fill("SHIRT-L-WRONG")
    page.get_by_role("button", name="Pack", exact=True).click()
    expect(page.get_by_text("Wrong item: SHIRT-L-WRONG is not in order")).to_be_visible()
    pack_item(page, "SHIRT-S", "2")
    expect(page.get_by_text("✓ SHIRT-S: 2 packed.")).to_be_visible()
    pack_item(page, "MUG-1", "1")
    expect(page.get_by_text("3 of 3 units packed.")).to_be_visible()
    expect(page.get_by_text("Proposed: Parcel Co Standard")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "fulfillment-pack-phone")
    page.get_by_label("Tracking number").fill("PC-777")
    page.get_by_role("button", name="Ship", exact=True).click()
    expect(
        page.get_by_role("status").get_by_text("Shipped with Parcel Co Standard.")
    ).to_be_visible()
    page.get_by_label("Status").select_option("delivered")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#shipment-status .badge")).to_have_text("Delivered")
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED

    # The shopper, from the signed link in their email.
    page.goto(f"{live_server.url}/order/{status_token(order)}/return/")
    page.get_by_label("How many of Linen Shirt — S").fill("1")
    page.get_by_label("Reason").select_option("too_small")
    page.get_by_role("button", name="Request the return").click()
    expect(page.get_by_role("heading", name="Return R")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "fulfillment-return-shopper-phone")
    ret = ReturnRequest.objects.get()

    # Staff approve, receive into stock and refund.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/fulfillment/returns/")
    page.get_by_role("link", name=ret.number).click()
    page.get_by_label("Message to the shopper").fill("Send it back any time.")
    page.get_by_role("button", name="Send decision").click()
    expect(page.get_by_role("heading", name="Receive the parcel")).to_be_visible()
    page.get_by_role("button", name="Receive").click()
    expect(page.get_by_role("heading", name="Refund or exchange")).to_be_visible()
    page.get_by_role("button", name="Settle").click()
    expect(page.locator(".page-header .badge")).to_have_text("Refunded")
    screenshot(page, "fulfillment-return-staff-desktop")
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)  # the items table once pushed the page sideways
    ret.refresh_from_db()
    assert ret.refund.amount == Decimal("40.00")
    assert StockMovement.objects.filter(reference=f"return:{ret.number}", reason="return").exists()


def pack_item(page, code: str, quantity: str) -> None:
    """Type a SKU and a quantity into the pack form (as a scanner would) and pack them.

    The form is swapped in by htmx after every scan, and htmx then puts the focus back
    on the scan field (autofocus, after the swap settles, as a scanner needs). Typing
    starts once it has, or a late focus would send the quantity into the scan field.
    """
    scan = page.locator("#pack-work input[name=code]")
    quantity_field = page.locator("#pack-work input[name=quantity]")
    expect(scan).to_be_focused()
    scan.fill(code)
    quantity_field.fill(quantity)
    expect(scan).to_have_value(code)
    expect(quantity_field).to_have_value(quantity)
    page.get_by_role("button", name="Pack", exact=True).click()
