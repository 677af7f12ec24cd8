"""Storefront pages of the catalog: home, listings, product page, search, sitemap."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from catalog.models import Category, Collection, Product
from catalog.selectors import (
    ListingFilters,
    category_breadcrumbs,
    category_get_or_404,
    featured_collections,
    listing_facets,
    product_get_for_storefront,
    product_list_for_storefront,
    product_load_for_page,
    product_search,
    related_for_storefront,
    variant_combos,
    variant_for_choice,
    variant_picker,
)
from config.staff import STAFF_SESSION_KEY

PAGE_SIZE = 24


def _page(request: HttpRequest, products) -> object:
    return Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    collections = featured_collections()
    shelves = [
        (collection, list(product_list_for_storefront(collection=collection)[:4]))
        for collection in collections
    ]
    newest = [] if shelves else list(product_list_for_storefront()[:8])
    return render(request, "catalog/storefront/home.html", {"shelves": shelves, "newest": newest})


# The filters offered on a listing (brands, option values) are the same for every visitor
# and change only when the catalog does: computed once per this many seconds per listing.
FACETS_CACHE_SECONDS = 300


def _facets(products, scope: dict) -> dict:
    owner = next(iter(scope.values()), None)
    key = f"listing-facets:{type(owner).__name__}:{getattr(owner, 'pk', '')}"
    return cache.get_or_set(key, lambda: listing_facets(products=products), FACETS_CACHE_SECONDS)


def _listing(request: HttpRequest, *, title: str, context: dict, **scope: object) -> HttpResponse:
    filters = ListingFilters.from_query(request.GET)
    unfiltered = product_list_for_storefront(**scope)
    page = _page(request, product_list_for_storefront(filters=filters, **scope))
    query = request.GET.copy()
    query.pop("page", None)
    context |= {
        "title": title,
        "page": page,
        "filters": filters,
        "facets": _facets(unfiltered, scope),
        "sorts": [
            ("newest", "Newest"),
            ("price-asc", "Price, low to high"),
            ("price-desc", "Price, high to low"),
            ("title", "Name"),
        ],
        "query_without_page": query.urlencode(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "catalog/storefront/listing.html#listing-results", context)
    return render(request, "catalog/storefront/listing.html", context)


@require_GET
@vary_on_headers("HX-Request")
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = category_get_or_404(slug=slug)
    context = {
        "heading": category.name,
        "description": category.description,
        "breadcrumbs": category_breadcrumbs(category=category),
        "canonical": reverse("catalog:category", args=[category.slug]),
        "meta_description": category.seo_description or category.description[:160],
    }
    return _listing(
        request, title=category.seo_title or category.name, context=context, category=category
    )


@require_GET
@vary_on_headers("HX-Request")
def collection_detail(request: HttpRequest, slug: str) -> HttpResponse:
    collection = get_object_or_404(Collection, slug=slug)
    context = {
        "heading": collection.title,
        "description": collection.description,
        "canonical": reverse("catalog:collection", args=[collection.slug]),
        "meta_description": collection.seo_description or collection.description[:160],
    }
    return _listing(
        request,
        title=collection.seo_title or collection.title,
        context=context,
        collection=collection,
    )


def _can_preview(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_staff
        and request.session.get(STAFF_SESSION_KEY)
        and user.has_perm("catalog.access_catalog")
    )


# Anonymous product pages are cached this long at most. A change to the product itself
# shows at once (updated_at is in the key); one elsewhere (a category's name, a related
# product) within this time.
PRODUCT_CACHE_SECONDS = 300


@require_GET
@vary_on_headers("HX-Request")
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The product page. For shoppers the product's own HTML comes from the cache; the
    page around it (header, account links, CSRF token, messages) is rendered each time.

    The HTML depends only on the variant a choice resolves to, so that is the key: made-up
    opt-* parameters cannot fill the cache. The product's variants and their option
    values are cached too, per product version, to resolve a choice without queries.
    """
    chosen = {key[4:]: value for key, value in request.GET.items() if key.startswith("opt-")}
    preview = _can_preview(request)
    product = product_get_for_storefront(slug=slug, preview=preview)
    version = f"product-page:{product.pk}:{product.updated_at.timestamp()}"
    combos = None if preview else cache.get(version)
    loaded = combos is None
    if loaded:
        product_load_for_page(product=product)
        combos = variant_combos(product=product)
        if not preview:
            cache.set(version, combos, PRODUCT_CACHE_SECONDS)
    variant_id = variant_for_choice(combos=combos, chosen=chosen)
    key = f"{version}:{variant_id}"
    parts = None if preview else cache.get(key)
    if parts is None:
        if not loaded:
            product_load_for_page(product=product)
        parts = _product_parts(product, chosen)
        if not preview:
            cache.set(key, parts, PRODUCT_CACHE_SECONDS)
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(parts["panel"])
    return render(request, "catalog/storefront/product_detail.html", {"parts": parts})


def _product_parts(product: Product, chosen: dict[str, str]) -> dict[str, str]:
    picker = variant_picker(product=product, chosen=chosen)
    images = list(product.images.all())
    variant_image = next(
        (img for img in images if picker.variant and img.variant_id == picker.variant.pk), None
    )
    context = {
        "product": product,
        "picker": picker,
        "variant": picker.variant,
        "images": images,
        "main_image": variant_image or (images[0] if images else None),
        "breadcrumbs": category_breadcrumbs(category=product.category),
        "related": related_for_storefront(product=product),
        # Absolute: search engines and link previews read these out of context.
        "canonical": settings.SITE_URL + reverse("catalog:product", args=[product.slug]),
        "site_url": settings.SITE_URL,
        "is_preview": product.status != Product.Status.ACTIVE,
    }
    name = "catalog/storefront/product_detail.html"
    return {
        "title": product.seo_title or product.title,
        "head": render_to_string(f"{name}#product-head", context),
        "main": render_to_string(f"{name}#product-main", context),
        "panel": render_to_string(f"{name}#variant-panel", context),
    }


@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    # No words: the whole shop, newest first (the "Browse the shop" and "All products" links).
    products = product_search(query=query) if query else product_list_for_storefront()
    page = _page(request, products)
    context = {"query": query, "page": page, "page_query": urlencode({"q": query}) if query else ""}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "catalog/storefront/search.html#search-results", context)
    return render(request, "catalog/storefront/search.html", context)


@require_GET
def sitemap(request: HttpRequest) -> HttpResponse:
    base = settings.SITE_URL
    products = Product.objects.filter(status=Product.Status.ACTIVE, price_min__isnull=False)
    entries = [(base + reverse("catalog:home"), None)]
    entries += [
        (base + reverse("catalog:category", args=[slug]), None)
        for slug in Category.objects.values_list("slug", flat=True)
    ]
    entries += [
        (base + reverse("catalog:collection", args=[slug]), None)
        for slug in Collection.objects.values_list("slug", flat=True)
    ]
    entries += [
        (base + reverse("catalog:product", args=[slug]), updated)
        for slug, updated in products.values_list("slug", "updated_at")[:45000]
    ]
    return render(
        request,
        "catalog/storefront/sitemap.xml",
        {"entries": entries},
        content_type="application/xml",
    )


@require_GET
def robots(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /dashboard/",
        "Disallow: /account/",
        "Disallow: /cart/",
        "Disallow: /search/",
        f"Sitemap: {settings.SITE_URL}{reverse('catalog:sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
