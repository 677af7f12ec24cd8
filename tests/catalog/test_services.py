"""Catalog services: the rules they keep whatever calls them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Category, PriceChange, Product, Variant
from catalog.services import (
    CatalogError,
    category_save,
    option_set,
    prices_change_by_percent,
    variant_save,
)
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_negative_prices_and_costs_are_refused():
    product = ProductFactory()
    for fields in ({"price": Decimal("-1")}, {"price": Decimal("5"), "cost": Decimal("-0.01")}):
        with pytest.raises(CatalogError, match="cannot be negative"):
            variant_save(variant=Variant(product=product, sku="NEG", **fields))
    assert not Variant.objects.exists()


def test_prices_and_costs_are_rounded_through_the_money_helper():
    variant = VariantFactory(price=Decimal("19.995"), cost=Decimal("7.125"))
    variant.refresh_from_db()
    assert (variant.price, variant.cost) == (Decimal("20.00"), Decimal("7.13"))


def test_two_variants_cannot_share_a_combination():
    product = ProductFactory()
    blue = option_set(product=product, name="Colour", values=["Blue", "Red"]).values.get(
        value="Blue"
    )
    VariantFactory(product=product, sku="RV-BLUE", option_values=[blue])
    with pytest.raises(CatalogError, match="RV-BLUE already is Blue"):
        variant_save(
            variant=Variant(product=product, sku="RV-BLUE-2", price=Decimal(1)),
            option_values=[blue],
        )
    assert Variant.objects.count() == 1


def test_values_of_another_product_or_two_of_one_option_are_refused():
    mine, other = ProductFactory(), ProductFactory()
    colour = option_set(product=mine, name="Colour", values=["Blue", "Red"])
    foreign = option_set(product=other, name="Size", values=["M"]).values.get()
    with pytest.raises(CatalogError, match="another product"):
        variant_save(variant=Variant(product=mine, sku="X1", price=1), option_values=[foreign])
    with pytest.raises(CatalogError, match="one value of each option"):
        variant_save(
            variant=Variant(product=mine, sku="X2", price=1),
            option_values=list(colour.values.all()),
        )


def test_sku_is_unique_without_regard_to_case_in_the_database():
    from django.db import IntegrityError, transaction

    VariantFactory(sku="AB-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.create(product=ProductFactory(), sku="ab-1", price=1)


def test_updating_an_option_keeps_its_place():
    product = ProductFactory()
    option_set(product=product, name="Size", values=["S"])
    option_set(product=product, name="Colour", values=["Red"])
    option_set(product=product, name="Size", values=["S", "M"])
    assert list(product.options.values_list("name", "position")) == [("Size", 0), ("Colour", 1)]


def test_renaming_a_category_refreshes_the_products_in_its_subtree():
    parent = CategoryFactory(name="Textiles")
    child = CategoryFactory(name="Bedding", parent=parent)
    product = ProductFactory(category=child)
    before = Product.objects.get(pk=product.pk).updated_at
    parent.name = "Soft Textiles"
    category_save(category=parent)
    assert Product.objects.get(pk=product.pk).updated_at > before


def test_moving_a_category_rewrites_its_subtree_paths_and_refuses_loops():
    a, b = CategoryFactory(name="A"), CategoryFactory(name="B")
    child = CategoryFactory(name="Child", parent=a)
    a.parent = b
    category_save(category=a)
    child.refresh_from_db()
    assert child.path == f"/{b.pk}/{a.pk}/{child.pk}/"
    b.parent = child
    with pytest.raises(CatalogError, match="inside itself"):
        category_save(category=b)
    assert Category.objects.get(pk=b.pk).parent_id is None


def test_a_bulk_price_change_records_only_real_changes():
    cheap = VariantFactory(price=Decimal("0.01"))
    VariantFactory(price=Decimal("10.00"))
    changed = prices_change_by_percent(
        products=Product.objects.all(), percent=Decimal("1"), actor=None
    )
    assert changed == 2
    cheap.refresh_from_db()
    assert cheap.price == Decimal("0.01")  # 1 % of a cent rounds away: no history row
    assert not PriceChange.objects.filter(variant=cheap, old_price=Decimal("0.01")).exists()


def test_availability_for_many_products_is_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    from catalog.services import availability_set

    variants = [VariantFactory() for _ in range(20)]
    # Lock the products, read the flags, update the variants, update the products, and the
    # savepoint pair.
    with django_assert_max_num_queries(6):
        changed = availability_set(in_stock={variant.pk: False for variant in variants})
    assert changed == 20
    assert not Product.objects.filter(in_stock=True).exists()
    availability_set(in_stock={variants[0].pk: True})
    assert Product.objects.filter(in_stock=True).count() == 1
