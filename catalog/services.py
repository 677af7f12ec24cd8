"""Writes to the catalog: `<entity>_<verb>(*, ...)`, each in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import (
    Category,
    OptionValue,
    PriceChange,
    Product,
    ProductOption,
    Tag,
    Variant,
)
from config.money import money_round


class CatalogError(Exception):
    """A catalog change that cannot be made as asked; the message says why."""


def unique_slug(
    model: type, text: str, *, exclude_pk: int | None = None, max_length: int = 200
) -> str:
    """A slug of `text` that no other row of `model` has: "linen-shirt", "linen-shirt-2"."""
    base = slugify(text)[:max_length] or "item"
    slug, counter = base, 2
    taken = model.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


# --- Categories ------------------------------------------------------------------------------


@transaction.atomic
def category_save(*, category: Category) -> Category:
    """Save `category` and keep the materialized paths of it and its subtree right.

    Refuses a parent inside the category's own subtree (the tree would become a loop).
    """
    if not category.slug:
        category.slug = unique_slug(Category, category.name, exclude_pk=category.pk)
    old_path = None
    if category.pk:
        old_path = Category.objects.select_for_update().get(pk=category.pk).path
        if category.parent_id and category.parent_id in _subtree_ids(old_path):
            raise CatalogError("A category cannot be placed inside itself or its children.")
    parent_path = category.parent.path if category.parent_id else "/"
    category.save()
    category.path = f"{parent_path}{category.pk}/"
    Category.objects.filter(pk=category.pk).update(path=category.path)
    cache.delete("catalog:menu")  # the storefront header lists the top-level categories
    # Breadcrumbs on cached product pages show this category's name and place.
    Product.objects.filter(category__path__startswith=category.path).update(
        updated_at=timezone.now()
    )
    if old_path and old_path != category.path:
        # Categories are few (hundreds): a loop over the subtree is simple and cheap.
        for child in Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk):
            child.path = category.path + child.path.removeprefix(old_path)
            child.save(update_fields=["path"])
    return category


def _subtree_ids(path: str) -> set[int]:
    return set(Category.objects.filter(path__startswith=path).values_list("pk", flat=True))


# --- Products --------------------------------------------------------------------------------


@transaction.atomic
def product_create(*, title: str, **fields: object) -> Product:
    title = title.strip()
    if not title:
        raise CatalogError("A product needs a title.")
    slug = fields.pop("slug", "") or unique_slug(Product, title)
    if Product.objects.filter(slug=slug).exists():
        raise CatalogError(f"The address /products/{slug}/ is taken by another product.")
    tags = fields.pop("tags", None)
    product = Product.objects.create(title=title, slug=slug, **fields)
    if tags is not None:
        product.tags.set(tags)
    if product.status == Product.Status.ACTIVE:
        product.published_at = timezone.now()
        product.save(update_fields=["published_at"])
    return product


@transaction.atomic
def product_update(*, product: Product, **fields: object) -> Product:
    tags = fields.pop("tags", None)
    related = fields.pop("related_products", None)
    if "slug" in fields:
        fields["slug"] = fields["slug"] or unique_slug(
            Product, product.title, exclude_pk=product.pk
        )
        if Product.objects.exclude(pk=product.pk).filter(slug=fields["slug"]).exists():
            raise CatalogError(f"The address /products/{fields['slug']}/ is taken.")
    for name, value in fields.items():
        setattr(product, name, value)
    product.updated_at = timezone.now()
    if product.status == Product.Status.ACTIVE and product.published_at is None:
        product.published_at = product.updated_at
    product.save()
    if tags is not None:
        product.tags.set(tags)
    if related is not None:
        product.related_products.set(related)
    return product


@transaction.atomic
def products_set_status(*, products: Iterable[Product], status: str) -> int:
    """Publish, archive or unpublish many products; returns how many changed.

    A product is published only with at least one variant: without a price it cannot
    be sold, so the whole change is refused and names the products that lack one.
    """
    if status not in Product.Status.values:
        raise CatalogError(f"Unknown status {status!r}.")
    ids = sorted(product.pk for product in products)
    # Lock in primary-key order first; the emptiness check joins variants, which
    # PostgreSQL cannot lock through (the nullable side of an outer join).
    list(Product.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
    rows = Product.objects.filter(pk__in=ids)
    if status == Product.Status.ACTIVE:
        empty = list(rows.filter(variants__isnull=True).values_list("title", flat=True))
        if empty:
            raise CatalogError(f"Add a variant with a price before publishing: {', '.join(empty)}.")
    now = timezone.now()
    changed = rows.exclude(status=status).update(status=status, updated_at=now)
    if status == Product.Status.ACTIVE:
        Product.objects.filter(pk__in=ids, published_at__isnull=True).update(published_at=now)
    return changed


@transaction.atomic
def products_set_category(*, products: Iterable[Product], category: Category | None) -> int:
    return Product.objects.filter(pk__in=[product.pk for product in products]).update(
        category=category, updated_at=timezone.now()
    )


def _touch(*product_ids: int) -> None:
    """Mark products changed: cached product pages are keyed on updated_at."""
    Product.objects.filter(pk__in=product_ids).update(updated_at=timezone.now())


def _refresh_listing(product_id: int) -> None:
    """Keep the product's price range, used by listings, equal to its variants'.

    The product row is locked first, so two variant saves cannot interleave their reads.
    """
    Product.objects.select_for_update().filter(pk=product_id).values("pk").first()
    prices = Variant.objects.filter(product_id=product_id).aggregate(
        low=Min("price"), high=Max("price")
    )
    Product.objects.filter(pk=product_id).update(
        price_min=prices["low"], price_max=prices["high"], updated_at=timezone.now()
    )


def tag_get_or_create(*, name: str) -> Tag:
    """The tag called `name`, whatever its case; created with a unique slug if new."""
    name = " ".join(name.split())[:60]
    tag = Tag.objects.filter(name__iexact=name).first()
    return tag or Tag.objects.create(name=name, slug=unique_slug(Tag, name))


# --- Options and variants --------------------------------------------------------------------


@transaction.atomic
def option_set(
    *, product: Product, name: str, values: list[str], position: int | None = None
) -> ProductOption:
    """Create or update an option (Size) with its values (S, M, L), keeping values in use.

    Without `position` a new option goes last and an existing one keeps its place.
    """
    name = name.strip()
    cleaned = [value.strip() for value in values if value.strip()]
    if not name or not cleaned:
        raise CatalogError("An option needs a name and at least one value.")
    if len({value.lower() for value in cleaned}) != len(cleaned):
        raise CatalogError(f"The values of {name} repeat.")
    option, created = ProductOption.objects.get_or_create(
        product=product,
        name=name,
        defaults={"position": product.options.count() if position is None else position},
    )
    if not created and position is not None and option.position != position:
        option.position = position
        option.save(update_fields=["position"])
    for index, value in enumerate(cleaned):
        OptionValue.objects.update_or_create(
            option=option, value=value, defaults={"position": index}
        )
    option.values.exclude(value__in=cleaned).filter(variants__isnull=True).delete()
    _touch(product.pk)
    return option


@transaction.atomic
def variant_save(
    *,
    variant: Variant,
    option_values: Iterable[OptionValue] | None = None,
    actor: object | None = None,
) -> Variant:
    """Create or update a variant; a new price is written to the price history."""
    variant.sku = variant.sku.strip()
    if not variant.sku:
        raise CatalogError("A variant needs a SKU.")
    if Variant.objects.exclude(pk=variant.pk).filter(sku__iexact=variant.sku).exists():
        raise CatalogError(f"The SKU {variant.sku} is used by another variant.")
    if variant.price < 0 or (variant.cost is not None and variant.cost < 0):
        raise CatalogError("Prices and costs cannot be negative.")
    variant.price = money_round(variant.price, variant.currency)
    if variant.cost is not None:
        variant.cost = money_round(variant.cost, variant.currency)
    if variant.compare_at_price is not None:
        variant.compare_at_price = money_round(variant.compare_at_price, variant.currency)
        if variant.compare_at_price <= variant.price:
            raise CatalogError("The compare-at price must be higher than the price.")
    # The product row first, then the variant's: the same order as every catalog write,
    # so the price history records the price this save replaced, not a stale read.
    Product.objects.select_for_update().filter(pk=variant.product_id).values("pk").first()
    old_price = None
    if variant.pk:
        old_price = (
            Variant.objects.select_for_update()
            .filter(pk=variant.pk)
            .values_list("price", flat=True)
            .first()
        )
    values = None if option_values is None else list(option_values)
    if values is not None:
        _check_combination(variant, values)
    variant.save()
    if values is not None:
        variant.option_values.set(values)
        if not variant.title:
            variant.title = " / ".join(value.value for value in values)
            variant.save(update_fields=["title"])
    if old_price != variant.price:
        PriceChange.objects.create(
            variant=variant,
            old_price=old_price,
            new_price=variant.price,
            currency=variant.currency,
            actor=actor,
        )
    _refresh_listing(variant.product_id)
    return variant


def _check_combination(variant: Variant, values: list[OptionValue]) -> None:
    """One value per option, of this product, and no other variant with the same ones:
    a shopper could never reach a variant whose choice another variant already answers."""
    options = [value.option_id for value in values]
    if len(options) != len(set(options)):
        raise CatalogError("A variant takes one value of each option.")
    if any(value.option.product_id != variant.product_id for value in values):
        raise CatalogError("Those option values belong to another product.")
    wanted = {value.pk for value in values}
    siblings = (
        Variant.objects.filter(product_id=variant.product_id)
        .exclude(pk=variant.pk)
        .prefetch_related("option_values")
    )
    for sibling in siblings:
        if {value.pk for value in sibling.option_values.all()} == wanted:
            label = " / ".join(value.value for value in values) or "no options"
            raise CatalogError(f"{sibling.sku} already is {label}.")


@transaction.atomic
def variant_delete(*, variant: Variant) -> None:
    product_id = variant.product_id
    variant.delete()
    _refresh_listing(product_id)


@transaction.atomic
def prices_change_by_percent(
    *, products: Iterable[Product], percent: Decimal, actor: object | None = None
) -> int:
    """Raise or lower every variant price of `products` by `percent`; returns variants changed.

    Compare-at prices move too, so a sale keeps its size.
    """
    if percent <= -100:
        raise CatalogError("A price cannot fall by 100 % or more.")
    factor = 1 + Decimal(percent) / 100
    variants = list(
        Variant.objects.select_for_update()
        .filter(product__in=[product.pk for product in products])
        .order_by("pk")
    )
    history = []
    for variant in variants:
        new_price = money_round(variant.price * factor, variant.currency)
        if new_price == variant.price:
            continue
        history.append(
            PriceChange(
                variant=variant,
                old_price=variant.price,
                new_price=new_price,
                currency=variant.currency,
                actor=actor,
            )
        )
        variant.price = new_price
        if variant.compare_at_price is not None:
            compare = money_round(variant.compare_at_price * factor, variant.currency)
            variant.compare_at_price = compare if compare > new_price else None
    Variant.objects.bulk_update(variants, ["price", "compare_at_price"])
    PriceChange.objects.bulk_create(history)
    for product_id in {variant.product_id for variant in variants}:
        _refresh_listing(product_id)
    return len(variants)


@transaction.atomic
def product_duplicate(*, product: Product, actor: object | None = None) -> Product:
    """A draft copy with the same fields, tags, options and variants (SKUs get -COPY-n)."""
    source = Product.objects.prefetch_related(
        "tags", "options__values", "variants__option_values__option"
    ).get(pk=product.pk)
    copy = product_create(
        title=f"{source.title} (copy)",
        description=source.description,
        vendor=source.vendor,
        product_type=source.product_type,
        category=source.category,
        seo_title=source.seo_title,
        seo_description=source.seo_description,
        currency=source.currency,
        tags=list(source.tags.all()),
    )
    values_by_key = {}
    for option in source.options.all():
        new_option = option_set(
            product=copy,
            name=option.name,
            values=[value.value for value in option.values.all()],
            position=option.position,
        )
        for value in new_option.values.all():
            values_by_key[(option.name, value.value)] = value
    for variant in source.variants.all():
        sku = _unique_sku(f"{variant.sku}-COPY")
        variant_save(
            variant=Variant(
                product=copy,
                sku=sku,
                title=variant.title,
                price=variant.price,
                compare_at_price=variant.compare_at_price,
                cost=variant.cost,
                currency=variant.currency,
                weight_grams=variant.weight_grams,
                track_inventory=variant.track_inventory,
                position=variant.position,
            ),
            option_values=[
                values_by_key[(v.option.name, v.value)] for v in variant.option_values.all()
            ],
            actor=actor,
        )
    return copy


def _unique_sku(base: str) -> str:
    sku, counter = base[:64], 2
    while Variant.objects.filter(sku__iexact=sku).exists():
        sku, counter = f"{base[:58]}-{counter}", counter + 1
    return sku


@transaction.atomic
def variant_cost_set(*, variant_id: int, cost: Decimal) -> None:
    """Record what a variant costs us (the inventory app's moving average after a receipt)."""
    variant = Variant.objects.select_for_update().get(pk=variant_id)
    variant.cost = money_round(cost, variant.currency)
    variant.save(update_fields=["cost"])


def availability_lock(*, variant_ids: Iterable[int] | None = None) -> None:
    """Inside the caller's transaction: lock the products of these variants (all, when
    None), in primary-key order, before availability is worked out.

    Whoever sets in-stock flags holds these locks from reading stock to writing flags, so
    two pushes for one product take turns and the later one, reading after the earlier
    has committed, writes the newer answer: a slow push cannot overwrite a newer one, and
    the product flag (any variant in stock) is computed from committed variant flags.
    """
    if not transaction.get_connection().in_atomic_block:
        raise CatalogError("availability_lock only means something inside a transaction.")
    products = Product.objects.all()
    if variant_ids is not None:
        products = products.filter(
            pk__in=Variant.objects.filter(pk__in=list(variant_ids)).values("product_id")
        )
    list(products.select_for_update().order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def availability_set(*, in_stock: dict[int, bool]) -> int:
    """Record which variants are in stock ({variant id: bool}); products follow (in stock
    when any variant is). Only real changes are written, and they move the product's
    updated_at, so cached product pages show the new availability. Returns variants changed.

    Takes availability_lock first (again, if the caller computing `in_stock` already has).
    """
    availability_lock(variant_ids=in_stock)
    changed_ids = [
        pk
        for pk, flag in Variant.objects.filter(pk__in=in_stock).values_list("pk", "in_stock")
        if flag != in_stock[pk]
    ]
    for flag in (True, False):
        Variant.objects.filter(pk__in=[pk for pk in changed_ids if in_stock[pk] is flag]).update(
            in_stock=flag
        )
    # One UPDATE for all the products concerned, however many there are.
    in_stock_variant = Variant.objects.filter(product=OuterRef("pk"), in_stock=True)
    Product.objects.filter(
        pk__in=Variant.objects.filter(pk__in=changed_ids).values("product_id")
    ).update(in_stock=Exists(in_stock_variant), updated_at=timezone.now())
    return len(changed_ids)
