from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import PriceChange, Product, ProductImage, Variant
from catalog.services import option_set
from tests.factories import CategoryFactory, ProductFactory, StaffFactory, VariantFactory

pytestmark = pytest.mark.django_db
LIST = "/dashboard/catalog/products/"


@pytest.fixture
def manager(client, roles, staff_login):
    return staff_login(StaffFactory(role="Manager"))


def test_product_list_full_page_and_htmx_rows(manager, django_assert_max_num_queries):
    for index in range(30):
        VariantFactory(product=ProductFactory(title=f"Mug {index}"))
    with django_assert_max_num_queries(9):
        page = manager.get(LIST)
    assert page.status_code == 200
    assert "Mug 29" in page.text
    rows = manager.get(
        LIST, {"q": "Mug 7"}, headers={"HX-Request": "true", "HX-Target": "product-rows"}
    )
    assert rows.text.lstrip().startswith('<div id="product-rows">')
    assert "Mug 7" in rows.text
    assert "Mug 8" not in rows.text


def test_list_filters_by_status_category_and_sku(manager):
    kitchen = CategoryFactory(name="Kitchen")
    VariantFactory(product=ProductFactory(title="Pan", category=kitchen), sku="PAN-1")
    VariantFactory(product=ProductFactory(title="Lamp", status=Product.Status.DRAFT), sku="LMP-1")
    page = manager.get(LIST, {"status": "draft"}).text
    assert "Lamp" in page
    assert "Pan" not in page
    assert "Pan" in manager.get(LIST, {"category": kitchen.pk}).text
    assert "Lamp" in manager.get(LIST, {"q": "lmp-1"}).text


def test_bulk_publish_and_price_change(manager):
    a = ProductFactory(status=Product.Status.DRAFT, title="A")
    b = ProductFactory(status=Product.Status.DRAFT, title="B")
    VariantFactory(product=a, price=Decimal("10.00"))
    VariantFactory(product=b, price=Decimal("20.00"))
    response = manager.post(
        f"{LIST}bulk/",
        {"products": [a.pk, b.pk], "action": "publish"},
        headers={"HX-Request": "true"},
    )
    assert "2 of 2 products published." in response.text
    assert "products-updated" in response["HX-Trigger"]
    manager.post(f"{LIST}bulk/", {"products": [a.pk, b.pk], "action": "price", "percent": "-10"})
    assert sorted(Variant.objects.values_list("price", flat=True)) == [
        Decimal("9.00"),
        Decimal("18.00"),
    ]
    assert PriceChange.objects.filter(
        new_price=Decimal("9.00"), old_price=Decimal("10.00")
    ).exists()


def test_bulk_publish_refuses_products_without_variants_and_changes_nothing(manager):
    empty = ProductFactory(status=Product.Status.DRAFT, title="Empty Box")
    full = ProductFactory(status=Product.Status.DRAFT, title="Full Box")
    VariantFactory(product=full)
    response = manager.post(
        f"{LIST}bulk/",
        {"products": [empty.pk, full.pk], "action": "publish"},
        headers={"HX-Request": "true"},
    )
    assert "Add a variant with a price before publishing: Empty Box." in response.text
    assert set(Product.objects.values_list("status", flat=True)) == {"draft"}


def test_bulk_without_a_selection_or_percent_is_explained(manager):
    product = ProductFactory()
    response = manager.post(f"{LIST}bulk/", {"action": "publish"}, headers={"HX-Request": "true"})
    assert "Select at least one product." in response.text
    response = manager.post(
        f"{LIST}bulk/",
        {"products": [product.pk], "action": "price"},
        headers={"HX-Request": "true"},
    )
    assert "Enter a percentage other than 0." in response.text


def test_roles_that_only_view_cannot_change(client, roles, staff_login):
    staff_login(StaffFactory(role="Warehouse"))
    product = ProductFactory()
    assert client.get(LIST).status_code == 200
    assert (
        client.post(f"{LIST}bulk/", {"products": [product.pk], "action": "archive"}).status_code
        == 403
    )
    assert client.post(f"{LIST}{product.pk}/", {"title": "Hacked"}).status_code == 403
    product.refresh_from_db()
    assert product.title != "Hacked"


def test_create_product_then_options_variants_and_publish(manager):
    response = manager.post(f"{LIST}new/", {"title": "Linen Shirt", "tags": "summer, linen"})
    product = Product.objects.get(title="Linen Shirt")
    assert response["Location"] == f"{LIST}{product.pk}/"
    assert product.status == Product.Status.DRAFT
    assert sorted(product.tags.values_list("name", flat=True)) == ["linen", "summer"]

    region = manager.post(
        f"{LIST}{product.pk}/options/",
        {"name": "Size", "values": "M, L"},
        headers={"HX-Request": "true"},
    )
    assert region.text.lstrip().startswith('<section id="variants"')
    size_m, size_l = product.options.get().values.order_by("position")
    manager.post(
        f"{LIST}{product.pk}/variants/",
        {
            "new-sku": "LS-M",
            "new-price": "30",
            "new-weight_grams": "200",
            "new-option_value": size_m.pk,
        },
        headers={"HX-Request": "true"},
    )
    manager.post(
        f"{LIST}{product.pk}/variants/",
        {
            "new-sku": "LS-L",
            "new-price": "35.5",
            "new-weight_grams": "220",
            "new-option_value": size_l.pk,
        },
        headers={"HX-Request": "true"},
    )
    product.refresh_from_db()
    assert list(product.variants.values_list("title", "price")) == [
        ("M", Decimal("30.00")),
        ("L", Decimal("35.50")),
    ]
    assert (product.price_min, product.price_max) == (Decimal("30.00"), Decimal("35.50"))
    manager.post(f"{LIST}{product.pk}/status/", {"status": "active"})
    product.refresh_from_db()
    assert product.status == Product.Status.ACTIVE


def test_bad_variant_input_shows_the_error_and_writes_nothing(manager):
    product = ProductFactory()
    VariantFactory(product=product, sku="TAKEN-1")
    response = manager.post(
        f"{LIST}{product.pk}/variants/",
        {"new-sku": "taken-1", "new-price": "10", "new-weight_grams": "0"},
        headers={"HX-Request": "true"},
    )
    assert "The SKU taken-1 is used by another variant." in response.text
    response = manager.post(
        f"{LIST}{product.pk}/variants/",
        {
            "new-sku": "OK-1",
            "new-price": "10",
            "new-compare_at_price": "5",
            "new-weight_grams": "0",
        },
        headers={"HX-Request": "true"},
    )
    assert "Must be higher than the price, or empty." in response.text
    assert Variant.objects.count() == 1


def test_edit_a_variant_row_and_remove_it(manager):
    variant = VariantFactory(price=Decimal("10.00"))
    product = variant.product
    manager.post(
        f"{LIST}{product.pk}/variants/{variant.pk}/",
        {
            f"v{variant.pk}-sku": variant.sku,
            f"v{variant.pk}-price": "12.00",
            f"v{variant.pk}-weight_grams": "5",
        },
        headers={"HX-Request": "true"},
    )
    variant.refresh_from_db()
    assert variant.price == Decimal("12.00")
    manager.post(
        f"{LIST}{product.pk}/variants/{variant.pk}/delete/", headers={"HX-Request": "true"}
    )
    assert not Variant.objects.filter(pk=variant.pk).exists()
    product.refresh_from_db()
    assert product.price_min is None


def test_a_variant_of_another_product_is_404(manager):
    mine, other = ProductFactory(), VariantFactory()
    response = manager.post(f"{LIST}{mine.pk}/variants/{other.pk}/delete/")
    assert response.status_code == 404
    assert Variant.objects.filter(pk=other.pk).exists()


def test_duplicate_makes_a_draft_copy_with_new_skus(manager):
    product = ProductFactory(title="Lamp")
    option = option_set(product=product, name="Shade", values=["Linen"])
    VariantFactory(product=product, sku="LAMP-1", option_values=[option.values.get()])
    response = manager.post(f"{LIST}{product.pk}/duplicate/")
    copy = Product.objects.exclude(pk=product.pk).get()
    assert response["Location"] == f"{LIST}{copy.pk}/"
    assert copy.title == "Lamp (copy)"
    assert copy.status == Product.Status.DRAFT
    assert list(copy.variants.values_list("sku", "title")) == [("LAMP-1-COPY", "Linen")]


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "teal").save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def test_upload_reorder_and_remove_images(
    manager, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory()
    url = f"{LIST}{product.pk}/images/"
    with django_capture_on_commit_callbacks(execute=True):
        first = manager.post(url, {"image": _png(), "alt": "Front"}, headers={"HX-Request": "true"})
        manager.post(url, {"image": _png(), "alt": "Back"}, headers={"HX-Request": "true"})
    assert first.text.lstrip().startswith('<section id="images"')
    front, back = ProductImage.objects.order_by("position")
    manager.post(f"{url}{back.pk}/move/", {"direction": "up"}, headers={"HX-Request": "true"})
    product.refresh_from_db()
    assert product.cover_image_id == back.pk
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(f"{url}{back.pk}/delete/", headers={"HX-Request": "true"})
    product.refresh_from_db()
    assert product.cover_image_id == front.pk


def test_a_bad_upload_is_refused_beside_the_field(manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory()
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    response = manager.post(
        f"{LIST}{product.pk}/images/", {"image": fake}, headers={"HX-Request": "true"}
    )
    assert "is not an image we can use" in response.text
    assert not ProductImage.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_related_products_are_set_by_address_and_bad_ones_refused(manager):
    product = ProductFactory(title="Lamp", slug="lamp")
    shade = ProductFactory(title="Shade", slug="shade")
    data = {"title": "Lamp", "slug": "lamp", "related": "shade, /products/nope/"}
    response = manager.post(f"{LIST}{product.pk}/", data)
    assert "No product at: nope." in response.text
    assert not product.related_products.exists()
    manager.post(f"{LIST}{product.pk}/", data | {"related": "shade"})
    assert list(product.related_products.all()) == [shade]
    response = manager.post(f"{LIST}{product.pk}/", data | {"related": "lamp"})
    assert "cannot be related to itself" in response.text


def test_a_negative_price_is_refused_beside_the_field(manager):
    product = ProductFactory()
    response = manager.post(
        f"{LIST}{product.pk}/variants/",
        {"new-sku": "NEG-1", "new-price": "-5", "new-weight_grams": "0"},
        headers={"HX-Request": "true"},
    )
    assert "greater than or equal to 0" in response.text
    assert not Variant.objects.exists()


def test_an_image_tied_to_a_variant_shows_when_that_variant_is_chosen(
    manager, client, django_capture_on_commit_callbacks
):
    from catalog.services import option_set

    product = ProductFactory(slug="mug")
    red, blue = option_set(product=product, name="Colour", values=["Red", "Blue"]).values.all()
    VariantFactory(product=product, sku="MUG-R", option_values=[red])
    blue_variant = VariantFactory(product=product, sku="MUG-B", option_values=[blue])
    url = f"{LIST}{product.pk}/images/"
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(url, {"image": _png(), "alt": "Red mug"})
        manager.post(url, {"image": _png(), "alt": "Blue mug", "variant": blue_variant.pk})
    manager.logout()
    page = client.get("/products/mug/", {"opt-Colour": "Blue"}).text
    main = page.split('class="product__image"', 1)[1].split(">", 1)[0]
    assert 'alt="Blue mug"' in main
    page = client.get("/products/mug/", {"opt-Colour": "Red"}).text
    main = page.split('class="product__image"', 1)[1].split(">", 1)[0]
    assert 'alt="Red mug"' in main
