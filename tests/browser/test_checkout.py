from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from catalog.services import option_set
from orders.models import Order
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import ProductFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory


@pytest.fixture
def shop(transactional_db):
    warehouse = WarehouseFactory()
    mug = ProductFactory(title="Enamel Mug", slug="enamel-mug", vendor="Ridgeline")
    colours = option_set(product=mug, name="Colour", values=["Red", "Blue"])
    red, blue = colours.values.order_by("position")
    for value, sku in ((red, "MUG-R"), (blue, "MUG-B")):
        stock(
            VariantFactory(product=mug, sku=sku, price=Decimal("12.00"), option_values=[value]),
            warehouse,
            5,
        )
    lamp = VariantFactory(
        product=ProductFactory(title="Desk Lamp", slug="desk-lamp"), price=Decimal("40.00")
    )
    stock(lamp, warehouse, 1)
    zone = ShippingZoneFactory(name="Europe", countries=["DE", "AT"])
    ShippingMethodFactory(zone=zone, name="Standard", price=Decimal("4.90"))
    ShippingMethodFactory(zone=zone, name="Express", price=Decimal("12.90"), position=1)
    TaxRateFactory(country="DE", rate=Decimal("19"))


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_guest_buys_two_products_by_bank_transfer(
    page: Page, live_server, shop, screenshot, size, viewport
):
    page.set_viewport_size(viewport)
    count = page.get_by_test_id("cart-count")

    # Product page: pick a colour, add two; the header count follows without a reload.
    page.goto(f"{live_server.url}/products/enamel-mug/")
    page.get_by_text("Blue", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/products/enamel-mug/?opt-Colour=Blue")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("Added 2 of Enamel Mug — Blue")
    expect(count).to_have_text("2 items")
    assert_no_horizontal_scroll(page)
    screenshot(page, f"checkout-product-added-{size}")

    # The only lamp: asking for two says how many are left.
    page.goto(f"{live_server.url}/products/desk-lamp/")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("alert")).to_have_text("Only 1 of Desk Lamp left; you asked for 2.")
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Add to cart").click()
    expect(count).to_have_text("3 items")

    # The cart: one more mug with the + button, totals follow.
    page.goto(f"{live_server.url}/cart/")
    expect(page.get_by_test_id("cart-line")).to_have_count(2)
    expect(page.get_by_test_id("subtotal")).to_have_text("€64.00")
    page.get_by_role("button", name="One more Enamel Mug — Blue").click()
    expect(page.get_by_test_id("subtotal")).to_have_text("€76.00")
    expect(count).to_have_text("4 items")
    assert_no_horizontal_scroll(page)
    screenshot(page, f"checkout-cart-{size}")

    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Email", exact=True).fill("grace@example.net")
    page.get_by_role("button", name="Continue to address").click()

    # A wrong postal code is explained next to the field.
    page.get_by_label("Full name").first.fill("Grace Hopper")
    page.get_by_label("Street and number").first.fill("Hafenstraße 3")
    page.get_by_label("Postal code").first.fill("2009")
    page.get_by_label("City").first.fill("Hamburg")
    page.get_by_label("Country").first.select_option("DE")
    page.get_by_role("button", name="Continue to delivery").click()
    expect(page.get_by_text("That is not a postal code of Germany: use 5 digits")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"checkout-address-error-{size}")
    page.get_by_label("Postal code").first.fill("20095")
    page.get_by_role("button", name="Continue to delivery").click()

    expect(page.get_by_text("Standard", exact=True)).to_be_visible()
    page.get_by_text("Express", exact=True).click()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_text("Bank transfer", exact=True).click()
    page.get_by_role("button", name="Review order").click()

    place = page.get_by_role("button", name="Place order · €88.90")  # 76 + 12.90
    expect(place).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"checkout-review-{size}")
    place.click()

    expect(page.get_by_role("heading", name="Thank you! Your order is placed.")).to_be_visible()
    order = Order.objects.get()
    expect(page.get_by_text(f"Order {order.number}", exact=True)).to_be_visible()
    expect(page.get_by_test_id("bank-details")).to_be_visible()
    expect(page.get_by_test_id("order-total")).to_have_text("€88.90")
    expect(count).to_have_text("")
    assert order.lines.count() == 2
    assert order.payment_method == "bank_transfer"
    assert_no_horizontal_scroll(page)
    screenshot(page, f"checkout-confirmation-{size}")

    # Reloading the confirmation shows the same order; so does /checkout/ now.
    page.reload()
    expect(page.get_by_text(f"Order {order.number}", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/checkout/")
    expect(page.get_by_text(f"Order {order.number}", exact=True)).to_be_visible()


def test_checkout_works_without_javascript(browser, live_server, shop, screenshot):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/products/desk-lamp/")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{live_server.url}/cart/")
    expect(page.get_by_text("Added Desk Lamp to your cart.")).to_be_visible()
    page.get_by_role("button", name="One more Desk Lamp").click()  # only one in stock
    expect(page.get_by_text("Only 1 of Desk Lamp left; you asked for 2.")).to_be_visible()

    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Email", exact=True).fill("nojs@example.net")
    page.get_by_role("button", name="Continue to address").click()
    page.get_by_label("Full name").first.fill("Ada Lovelace")
    page.get_by_label("Street and number").first.fill("Weg 1")
    page.get_by_label("Postal code").first.fill("10115")
    page.get_by_label("City").first.fill("Berlin")
    page.get_by_label("Country").first.select_option("DE")
    same = page.get_by_label("Billing address is the same as shipping")
    same.uncheck()
    expect(page.locator(".billing__fields")).to_be_visible()  # CSS alone shows it
    same.check()
    expect(page.locator(".billing__fields")).to_be_hidden()
    page.get_by_role("button", name="Continue to delivery").click()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_text("Cash on delivery", exact=True).click()
    page.get_by_role("button", name="Review order").click()
    page.get_by_role("button", name="Place order · €44.90").click()

    expect(page.get_by_role("heading", name="Thank you! Your order is placed.")).to_be_visible()
    order = Order.objects.get()
    assert order.payment_method == "cash_on_delivery"
    expect(page.get_by_text("to the courier when your parcel arrives")).to_be_visible()
    screenshot(page, "checkout-no-js-confirmation-phone")
    context.close()
