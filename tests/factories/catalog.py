from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Category, Product, Variant
from catalog.services import category_save, variant_save


class CategoryFactory(factory.django.DjangoModelFactory):
    """Saved through catalog.services.category_save, so the tree path is right."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return category_save(category=model_class(*args, **kwargs))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    title = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A thing worth having."
    vendor = "Northwind"
    status = Product.Status.ACTIVE
    published_at = factory.LazyFunction(timezone.now)


class VariantFactory(factory.django.DjangoModelFactory):
    """Saved through catalog.services.variant_save: price history and listing prices."""

    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("19.90")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        option_values = kwargs.pop("option_values", None)
        return variant_save(variant=model_class(*args, **kwargs), option_values=option_values)
