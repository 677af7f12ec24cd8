from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from catalog.services import option_set
from customers.services import roles_sync
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import CategoryFactory, ProductFactory, StaffFactory, VariantFactory
from tests.factories.users import PASSWORD


@pytest.fixture
def shop(transactional_db):
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    skillet = ProductFactory(
        title="Cast Iron Skillet", slug="skillet", category=kitchen, vendor="Forge"
    )
    sizes = option_set(product=skillet, name="Size", values=["20 cm", "26 cm"])
    small, large = sizes.values.order_by("position")
    VariantFactory(product=skillet, sku="SK-20", price=Decimal("39.00"), option_values=[small])
    VariantFactory(product=skillet, sku="SK-26", price=Decimal("49.00"), option_values=[large])
    VariantFactory(
        product=ProductFactory(title="Glass Carafe", category=kitchen, vendor="Clearwater"),
        price=Decimal("19.00"),
    )
    return kitchen


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_shopper_filters_opens_a_product_and_switches_variant(
    page: Page, live_server, shop, screenshot, size, viewport
):
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/categories/kitchen/")
    expect(page.get_by_text("2 products")).to_be_visible()
    if size == "phone":
        page.get_by_text("Filters").click()  # folded on phones
    page.get_by_label("Forge").check()
    expect(page.get_by_text("1 product", exact=True)).to_be_visible()
    expect(page).to_have_url(
        f"{live_server.url}/categories/kitchen/?min=&max=&vendor=Forge&sort=newest"
    )
    expect(page.get_by_role("link", name="Glass Carafe")).to_have_count(0)
    screenshot(page, f"catalog-category-filtered-{size}")

    page.get_by_role("link", name="Cast Iron Skillet").click()
    price = page.get_by_test_id("price")
    expect(price).to_have_text("€39.00")
    page.get_by_text("26 cm").click()
    expect(price).to_have_text("€49.00")
    expect(page).to_have_url(f"{live_server.url}/products/skillet/?opt-Size=26%20cm")
    assert_no_horizontal_scroll(page)
    screenshot(page, f"catalog-product-{size}")


def _png(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), (31, 77, 63)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_staff_creates_a_product_with_variants_and_an_image(
    page: Page, live_server, transactional_db, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    roles_sync()
    StaffFactory(email="maya@example.com", role="Manager")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/catalog/products/new/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.locator("#id_title").fill("Linen Apron")
    page.locator("#id_vendor").fill("Hearth Studio")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_text("Product created as a draft.")).to_be_visible()

    page.locator("#id_name").fill("Colour")
    page.locator("#id_values").fill("Natural, Rust")
    page.get_by_role("button", name="Add or update option").click()
    expect(page.get_by_text("Colour: Natural, Rust")).to_be_visible()

    for colour, sku, price in (("Natural", "APR-N", "28.00"), ("Rust", "APR-R", "32.00")):
        page.get_by_label("Colour", exact=True).select_option(colour)
        page.locator("#id_new-sku").fill(sku)
        page.locator("#id_new-price").fill(price)
        page.get_by_role("button", name="Add variant").click()
        expect(page.get_by_role("cell", name=colour, exact=True)).to_be_visible()

    page.locator("#id_image").set_input_files(_png(tmp_path / "apron.png"))
    page.locator("#id_alt").fill("A rust-coloured linen apron")
    page.get_by_role("button", name="Upload").click()
    images = page.locator("#images")
    expect(images.get_by_role("img", name="A rust-coloured linen apron")).to_be_visible()
    expect(images.get_by_text("Cover", exact=True)).to_be_visible()
    screenshot(page, "catalog-editor-desktop")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Product is now active.")).to_be_visible()

    page.goto(f"{live_server.url}/products/linen-apron/")
    expect(page.get_by_role("heading", name="Linen Apron")).to_be_visible()
    expect(page.get_by_test_id("price")).to_have_text("€28.00")
    expect(page.get_by_role("img", name="A rust-coloured linen apron").first).to_be_visible()
    page.get_by_text("Rust", exact=True).click()
    expect(page.get_by_test_id("price")).to_have_text("€32.00")
