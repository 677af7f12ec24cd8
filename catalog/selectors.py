"""Reads of the catalog that storefront views, the dashboard and tasks share."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    FloatField,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.http import Http404, QueryDict
from django.urls import reverse

from catalog.models import (
    Category,
    Collection,
    OptionValue,
    Product,
    ProductImage,
    ProductOption,
    Variant,
)

SORTS = {
    "newest": ("-published_at", "-pk"),
    "price-asc": ("price_min", "pk"),
    "price-desc": ("-price_max", "-pk"),
    "title": ("title", "pk"),
}
# A broad search term stops at this many candidates before ranking: "a" must stay fast.
SEARCH_CANDIDATES = 200
MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)


@dataclass(frozen=True)
class ListingFilters:
    """What a shopper chose on a category, collection or search page; every field is in the URL."""

    price_min: Decimal | None = None
    price_max: Decimal | None = None
    vendors: tuple[str, ...] = ()
    option_values: tuple[str, ...] = ()
    in_stock: bool = False
    sort: str = "newest"
    errors: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(
            self.price_min is not None
            or self.price_max is not None
            or self.vendors
            or self.option_values
            or self.in_stock
        )

    @classmethod
    def from_query(cls, query: QueryDict) -> ListingFilters:
        errors = []

        def amount(name: str) -> Decimal | None:
            raw = (query.get(name) or "").strip()
            if not raw:
                return None
            try:
                value = Decimal(raw.replace(",", "."))
            except InvalidOperation:
                errors.append(f"“{raw}” is not a price; that limit is ignored.")
                return None
            # Above the money columns' range PostgreSQL would refuse the comparison.
            if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
                errors.append(f"“{raw}” is not a price; that limit is ignored.")
                return None
            return value

        sort = query.get("sort") or "newest"
        return cls(
            price_min=amount("min"),
            price_max=amount("max"),
            vendors=tuple(sorted(set(query.getlist("vendor")))),
            option_values=tuple(sorted(set(query.getlist("option")))),
            in_stock=query.get("in_stock") == "1",
            sort=sort if sort in SORTS else "newest",
            errors=errors,
        )


def _visible() -> QuerySet[Product]:
    return Product.objects.filter(status=Product.Status.ACTIVE, price_min__isnull=False)


def product_list_for_storefront(
    *,
    category: Category | None = None,
    collection: Collection | None = None,
    filters: ListingFilters | None = None,
) -> QuerySet[Product]:
    """Active products of a category subtree or a collection, filtered and sorted.

    Cards need the title, prices and the cover image only: one query per page.
    """
    filters = filters or ListingFilters()
    products = _visible().select_related("cover_image")
    if category is not None:
        products = products.filter(category__path__startswith=category.path)
    if collection is not None:
        products = products.filter(collection_filter(collection))
    if filters.price_min is not None:
        products = products.filter(price_max__gte=filters.price_min)
    if filters.price_max is not None:
        products = products.filter(price_min__lte=filters.price_max)
    if filters.vendors:
        products = products.filter(vendor__in=filters.vendors)
    if filters.in_stock:
        products = products.filter(in_stock=True)
    if filters.option_values:
        # A product matches when one of its variants has any chosen value.
        products = products.filter(
            pk__in=Variant.objects.filter(option_values__value__in=filters.option_values).values(
                "product_id"
            )
        )
    return products.order_by(*SORTS[filters.sort])


def collection_filter(collection: Collection) -> Q:
    """The products of a collection as a filter: its picks, or its rules."""
    if collection.kind == Collection.Kind.MANUAL:
        return Q(collections=collection)
    conditions = []
    for rule in collection.rules:
        value = str(rule.get("value", ""))
        match rule.get("field"), rule.get("op"):
            case "tag", "eq":
                conditions.append(Q(tags__name__iexact=value))
            case "vendor", "eq":
                conditions.append(Q(vendor__iexact=value))
            case "type", "eq":
                conditions.append(Q(product_type__iexact=value))
            case "price", "lt":
                conditions.append(Q(price_min__lt=Decimal(value)))
            case "price", "gt":
                conditions.append(Q(price_max__gt=Decimal(value)))
    if not conditions:
        return Q(pk__in=[])
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = (
            combined & condition
            if collection.match == Collection.Match.ALL
            else combined | condition
        )
    # Tags join a many-to-many table: match on ids so no product is listed twice.
    return Q(pk__in=Product.objects.filter(combined).values("pk"))


def listing_facets(*, products: QuerySet[Product]) -> dict[str, object]:
    """Vendors, and option values grouped by option name, present in a listing (before
    the shopper's own filters): two queries whatever the size of the listing."""
    ids = products.order_by().values("pk")
    vendors = (
        Product.objects.filter(pk__in=ids)
        .exclude(vendor="")
        .order_by("vendor")
        .values_list("vendor", flat=True)
        .distinct()
    )
    pairs = (
        OptionValue.objects.filter(variants__product__in=ids)
        .order_by("option__name", "value")
        .values_list("option__name", "value")
        .distinct()
    )
    options: dict[str, list[str]] = {}
    for name, value in pairs:
        if value not in options.setdefault(name, []):
            options[name].append(value)
    return {"vendors": list(vendors), "options": sorted(options.items())}


def product_get_for_storefront(*, slug: str, preview: bool = False) -> Product:
    """The product row (with its category) for the product page: one query, also what a
    cached page is keyed on (its updated_at moves with every catalog change). Drafts and
    archived products only with `preview` (staff)."""
    products = Product.objects.select_related("category").filter(slug=slug)
    if not preview:
        products = products.filter(status=Product.Status.ACTIVE)
    product = products.first()
    if product is None:
        raise Http404("No such product.")
    return product


def product_load_for_page(*, product: Product) -> Product:
    """Fetch what the page shows of `product`: two queries for the variants with their
    option values (and options), one for the images, whatever their number."""
    prefetch_related_objects(
        [product],
        Prefetch(
            "variants",
            queryset=Variant.objects.prefetch_related(
                Prefetch("option_values", queryset=OptionValue.objects.select_related("option"))
            ),
        ),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")),
    )
    return product


def category_breadcrumbs(*, category: Category | None) -> list[Category]:
    """The category and its ancestors, root first, in one query."""
    if category is None:
        return []
    ids = [*category.ancestor_ids, category.pk]
    by_id = {node.pk: node for node in Category.objects.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def category_get_or_404(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise Http404("No such category.")
    return category


def product_search(*, query: str) -> QuerySet[Product]:
    """Active products matching `query`, best first.

    PostgreSQL: weighted full-text rank (title A over description B) plus trigram
    similarity of the title, so "lamb" finds "Lamp" and an exact title beats a mention in
    a description. Both expressions match the indexes of migration 0003. Candidates
    are capped before ranking. SQLite: titles, then descriptions, containing the words.
    """
    query = " ".join(query.split())[:200]
    if not query:
        return _visible().none()
    if connection.vendor == "postgresql":
        return _search_postgres(query)
    return _search_plain(query)


# search_document is a stored, GIN-indexed tsvector (title weighted A, description B) that
# only PostgreSQL has (migration 0005), so it is reached through RawSQL; the words typed are
# always a query parameter.
_MATCHES = "catalog_product.search_document @@ websearch_to_tsquery('english', %s)"
_TITLE_MATCHES = "catalog_product.title_document @@ websearch_to_tsquery('english', %s)"
_RANK = "ts_rank(catalog_product.search_document, websearch_to_tsquery('english', %s))"


def _search_postgres(query: str) -> QuerySet[Product]:
    from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity

    ids = _full_text_ids(query)
    if not ids:
        # Nothing for these words: most likely a typo. Swap each word for the closest word
        # of the titles' vocabulary and search again, through the same index.
        corrected = _corrected(query)
        if corrected != query.lower():
            query, ids = corrected, _full_text_ids(corrected)
    rank = RawSQL(_RANK, [query], output_field=FloatField())  # noqa: S611 - constant SQL
    return (
        _visible()
        .filter(pk__in=ids)
        .select_related("cover_image")
        .annotate(
            rank=rank + TrigramSimilarity("title", query) + TrigramWordSimilarity(query, "title")
        )
        .order_by("-rank", "pk")
    )


def _full_text_ids(query: str) -> list[int]:
    """Ids of up to SEARCH_CANDIDATES matching products, straight from the GIN indexes:
    products whose title matches first, then those that match elsewhere."""
    in_title = list(
        _visible()
        .annotate(hit=RawSQL(_TITLE_MATCHES, [query], output_field=BooleanField()))  # noqa: S611
        .filter(hit=True)
        .order_by()
        .values_list("pk", flat=True)[:SEARCH_CANDIDATES]
    )
    if len(in_title) == SEARCH_CANDIDATES:
        return in_title
    elsewhere = (
        _visible()
        .annotate(hit=RawSQL(_MATCHES, [query], output_field=BooleanField()))  # noqa: S611
        .filter(hit=True)
        .exclude(pk__in=in_title)
        .order_by()
        .values_list("pk", flat=True)[: SEARCH_CANDIDATES - len(in_title)]
    )
    return in_title + list(elsewhere)


def _corrected(query: str) -> str:
    """`query` with each word replaced by the most similar word of the product titles
    (materialized view catalog_search_word, migration 0006): one query, about 1 ms."""
    words = query.lower().split()[:6]
    sql = """
        SELECT COALESCE((
            SELECT word FROM catalog_search_word
            WHERE word %% typed ORDER BY word <-> typed LIMIT 1
        ), typed)
        FROM unnest(%s::text[]) WITH ORDINALITY AS typed_words(typed, position)
        ORDER BY position
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [words])
        return " ".join(row[0] for row in cursor.fetchall())


def _search_plain(query: str) -> QuerySet[Product]:
    words = query.split()[:5]
    in_title = Q()
    anywhere = Q()
    for word in words:
        in_title &= Q(title__icontains=word)
        anywhere &= Q(title__icontains=word) | Q(description__icontains=word)
    return (
        _visible()
        .filter(anywhere)
        .select_related("cover_image")
        .annotate(
            rank=Case(
                When(title__iexact=query, then=Value(3)),
                When(in_title, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("-rank", "title", "pk")
    )


def featured_collections() -> list[Collection]:
    return list(Collection.objects.filter(featured=True).order_by("position", "title")[:4])


@dataclass(frozen=True)
class Picker:
    """The product page's variant choice: option rows, and the variant they point at."""

    options: list[dict]
    variant: Variant | None


def variant_combos(*, product: Product) -> list[tuple[int, dict[str, str]]]:
    """(variant id, {option name: value}) of each variant, from prefetched data."""
    return [
        (variant.pk, {value.option.name: value.value for value in variant.option_values.all()})
        for variant in product.variants.all()
    ]


def variant_for_choice(*, combos: list[tuple[int, dict[str, str]]], chosen: dict) -> int | None:
    """The variant matching most of the chosen {option name: value}; the first on a tie."""
    if not combos:
        return None

    def score(item: tuple[int, dict[str, str]]) -> int:
        return sum(1 for name, value in chosen.items() if item[1].get(name) == value)

    return max(combos, key=score)[0]


def variant_picker(*, product: Product, chosen: dict[str, str]) -> Picker:
    """Work out the variant from the chosen {option name: value}, from prefetched data.

    Options come from the variants' own values (each prefetched with its option), so the
    page needs no query for options. A missing or impossible choice falls back to the
    first variant that matches as much as was chosen.
    """
    variants = {variant.pk: variant for variant in product.variants.all()}
    combos = variant_combos(product=product)
    chosen_id = variant_for_choice(combos=combos, chosen=chosen)
    selected = dict(combos)[chosen_id] if chosen_id else {}
    options: dict[str, dict] = {}
    for variant in variants.values():
        for value in variant.option_values.all():
            option = options.setdefault(
                value.option.name,
                {"name": value.option.name, "position": value.option.position, "values": {}},
            )
            option["values"].setdefault(value.value, value.position)
    rows = []
    for option in sorted(options.values(), key=lambda o: (o["position"], o["name"])):
        values = sorted(option["values"].items(), key=lambda item: (item[1], item[0]))
        rows.append(
            {
                "name": option["name"],
                "values": [
                    {"value": value, "selected": selected.get(option["name"]) == value}
                    for value, _ in values
                ],
            }
        )
    return Picker(options=rows, variant=variants.get(chosen_id))


def related_for_storefront(*, product: Product, limit: int = 4) -> list[Product]:
    """Hand-picked related products first, then others of the same category: one query."""
    picked = product.related_products.through.objects.filter(from_product=product).values(
        "to_product"
    )
    same_category = Q(category=product.category_id) if product.category_id else Q(pk__in=[])
    return list(
        _visible()
        .filter(Q(pk__in=picked) | same_category)
        .exclude(pk=product.pk)
        .select_related("cover_image")
        .annotate(
            picked=Case(
                When(pk__in=picked, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("picked", "-published_at", "pk")[:limit]
    )


def product_list_for_staff(*, filters: dict) -> QuerySet[Product]:
    """The dashboard's product table: filters from ProductFilterForm, joins chosen."""
    products = Product.objects.select_related("category", "cover_image").annotate(
        variant_count=Count("variants", distinct=True)
    )
    if query := filters.get("q"):
        products = products.filter(
            Q(title__icontains=query)
            | Q(pk__in=Variant.objects.filter(sku__icontains=query).values("product_id"))
        )
    if status := filters.get("status"):
        products = products.filter(status=status)
    if category := filters.get("category"):
        products = products.filter(category__path__startswith=category.path)
    if collection := filters.get("collection"):
        products = products.filter(collection_filter(collection))
    if vendor := filters.get("vendor"):
        products = products.filter(vendor__iexact=vendor)
    match filters.get("stock"):
        case "in":
            products = products.filter(in_stock=True)
        case "out":
            products = products.filter(in_stock=False)
    return products.order_by("-updated_at", "-pk")


def product_get_for_staff(*, product_id: int) -> Product:
    product = (
        Product.objects.select_related("category")
        .prefetch_related(
            "tags",
            Prefetch("options", queryset=ProductOption.objects.prefetch_related("values")),
            Prefetch(
                "variants",
                queryset=Variant.objects.prefetch_related(
                    Prefetch("option_values", queryset=OptionValue.objects.select_related("option"))
                ),
            ),
            Prefetch(
                "images",
                queryset=ProductImage.objects.select_related("variant").order_by("position", "pk"),
            ),
        )
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise Http404("No such product.")
    return product


def category_menu() -> list[dict[str, str]]:
    """Top-level categories as plain data (cacheable): name and address."""
    return [
        {"name": name, "url": reverse("catalog:category", args=[slug])}
        for name, slug in Category.objects.filter(parent__isnull=True)
        .order_by("position", "name")
        .values_list("name", "slug")[:8]
    ]
