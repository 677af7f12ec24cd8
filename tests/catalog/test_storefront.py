from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.utils.text import slugify

from catalog.models import Collection, Product
from catalog.services import option_set, products_set_status
from tests.factories import CategoryFactory, ProductFactory, StaffFactory, VariantFactory

pytestmark = pytest.mark.django_db


def product_with_sizes(title="Linen Shirt", prices=("30.00", "35.00"), **fields):
    product = ProductFactory(title=title, slug=slugify(title), **fields)
    option = option_set(product=product, name="Size", values=["M", "L"][: len(prices)])
    for value, price in zip(option.values.all(), prices, strict=True):
        VariantFactory(product=product, price=Decimal(price), option_values=[value])
    return product


def test_product_page_shows_the_product_with_seo_data(client, settings):
    product = product_with_sizes(description="Soft & breathable <linen>.")
    response = client.get(f"/products/{product.slug}/")
    assert response.status_code == 200
    html = response.text
    assert '<h1 class="product__title">Linen Shirt</h1>' in html
    assert f'<link rel="canonical" href="{settings.SITE_URL}/products/linen-shirt/">' in html
    assert '<meta property="og:title" content="Linen Shirt">' in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    )
    assert data["@type"] == "Product"
    assert data["offers"]["price"] == "30.00"
    assert data["description"] == "Soft & breathable <linen>."  # escaped in HTML, exact in JSON
    assert "<linen>" not in html


def test_choosing_a_variant_changes_price_full_page_and_htmx(client):
    product = product_with_sizes()
    response = client.get(f"/products/{product.slug}/", {"opt-Size": "L"})
    assert '<span class="price" data-testid="price">€35.00</span>' in response.text
    partial = client.get(
        f"/products/{product.slug}/", {"opt-Size": "L"}, headers={"HX-Request": "true"}
    )
    assert partial.text.lstrip().startswith('<div id="variant-panel"')
    assert "€35.00" in partial.text
    assert "<html" not in partial.text


def test_an_impossible_choice_falls_back_to_a_variant(client):
    product = product_with_sizes()
    response = client.get(f"/products/{product.slug}/", {"opt-Size": "XXL", "opt-Nope": "1"})
    assert response.status_code == 200
    assert "€30.00" in response.text


@pytest.mark.parametrize("status", [Product.Status.DRAFT, Product.Status.ARCHIVED])
def test_hidden_products_are_404_for_shoppers_and_previewable_by_staff(
    client, roles, staff_login, status
):
    product = product_with_sizes(status=status)
    assert client.get(f"/products/{product.slug}/").status_code == 404
    staff_login(StaffFactory(role="Support"))
    response = client.get(f"/products/{product.slug}/")
    assert response.status_code == 200
    assert "Preview: this product is" in response.text
    assert '<meta name="robots" content="noindex">' in response.text


def test_staff_without_a_dashboard_sign_in_cannot_preview(client, roles):
    product = product_with_sizes(status=Product.Status.DRAFT)
    client.force_login(StaffFactory(role="Manager"))
    assert client.get(f"/products/{product.slug}/").status_code == 404


def test_unknown_product_is_404(client):
    assert client.get("/products/no-such-thing/").status_code == 404


def test_category_page_lists_its_subtree_with_breadcrumbs(client):
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    cookware = CategoryFactory(name="Cookware", slug="cookware", parent=kitchen)
    product_with_sizes("Skillet", category=cookware)
    product_with_sizes("Garden Hose", category=CategoryFactory(slug="garden"))
    response = client.get("/categories/kitchen/")
    assert "Skillet" in response.text
    assert "Garden Hose" not in response.text
    page = client.get("/categories/cookware/").text
    assert re.search(r'<a href="/categories/kitchen/">Kitchen</a>.*Cookware', page, re.S)


def test_filters_have_their_own_url_and_an_htmx_partial(client):
    category = CategoryFactory(slug="all")
    product_with_sizes("Cheap Mug", prices=("8.00",), category=category, vendor="Clay Co")
    product_with_sizes("Fancy Lamp", prices=("120.00",), category=category, vendor="Lumen")
    response = client.get("/categories/all/", {"max": "50"})
    assert "Cheap Mug" in response.text
    assert "Fancy Lamp" not in response.text
    response = client.get("/categories/all/", {"vendor": "Lumen", "sort": "price-desc"})
    assert "Fancy Lamp" in response.text
    assert "Cheap Mug" not in response.text
    partial = client.get("/categories/all/", {"option": "M"}, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="listing-results"')


def test_bad_filter_values_are_explained_and_ignored(client):
    category = CategoryFactory(slug="all")
    product_with_sizes("Cheap Mug", prices=("8.00",), category=category)
    response = client.get("/categories/all/", {"min": "abc", "sort": "bogus", "page": "999"})
    assert response.status_code == 200
    assert "“abc” is not a price; that limit is ignored." in response.text
    assert "Cheap Mug" in response.text


def test_rule_collection_lists_what_its_rules_match(client):
    product_with_sizes("Cheap Mug", prices=("8.00",))
    product_with_sizes("Fancy Lamp", prices=("120.00",))
    Collection.objects.create(
        title="Under 25",
        slug="under-25",
        kind=Collection.Kind.RULES,
        rules=[{"field": "price", "op": "lt", "value": "25"}],
    )
    page = client.get("/collections/under-25/").text
    assert "Cheap Mug" in page
    assert "Fancy Lamp" not in page


def test_home_shows_featured_collections(client):
    mug = product_with_sizes("Cheap Mug", prices=("8.00",))
    shelf = Collection.objects.create(title="Staff picks", slug="picks", featured=True)
    shelf.products.add(mug)
    page = client.get("/").text
    assert "Staff picks" in page
    assert "Cheap Mug" in page


def test_search_ranks_a_title_match_above_a_description_mention(client):
    product_with_sizes("Lantern Hook", description="Hang it anywhere.")
    product_with_sizes("Tent Stake", description="Works with any lantern hook or guy line.")
    page = client.get("/search/", {"q": "lantern"}).text
    assert page.index("Lantern Hook") < page.index("Tent Stake")


@pytest.mark.postgres
def test_search_finds_a_title_despite_a_typo(client):
    from catalog.search import search_words_refresh

    product_with_sizes("Brass Table Lamp")
    product_with_sizes("Stoneware Bowl")
    search_words_refresh()  # beat does this every 10 minutes
    page = client.get("/search/", {"q": "bras tabel lamp"}).text
    assert "Brass Table Lamp" in page
    assert "Stoneware Bowl" in client.get("/search/", {"q": "stonware"}).text


@pytest.mark.postgres
def test_typed_words_are_parameters_never_sql(client):
    product_with_sizes("Brass Table Lamp")
    for query in ("'; DROP TABLE catalog_product; --", "lamp') OR 1=1 --", "%% _ \\"):
        assert client.get("/search/", {"q": query}).status_code == 200
    assert Product.objects.count() == 1


def test_search_never_shows_hidden_products(client):
    product_with_sizes("Secret Lamp", status=Product.Status.DRAFT)
    assert "Secret Lamp" not in client.get("/search/", {"q": "lamp"}).text


def test_search_htmx_partial(client):
    product_with_sizes("Brass Lamp")
    partial = client.get("/search/", {"q": "lamp"}, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="search-results"')


def test_sitemap_and_robots(client, settings):
    product_with_sizes("Brass Lamp")
    product_with_sizes("Secret Lamp", status=Product.Status.DRAFT)
    sitemap = client.get("/sitemap.xml")
    assert sitemap["Content-Type"] == "application/xml"
    assert f"<loc>{settings.SITE_URL}/products/brass-lamp/</loc>" in sitemap.text
    assert "secret-lamp" not in sitemap.text
    robots = client.get("/robots.txt").text
    assert "Disallow: /dashboard/" in robots
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in robots


def test_publishing_without_a_variant_is_refused():
    from catalog.services import CatalogError

    empty = ProductFactory(status=Product.Status.DRAFT, title="Empty Box")
    with pytest.raises(CatalogError, match="Empty Box"):
        products_set_status(products=[empty], status=Product.Status.ACTIVE)
    empty.refresh_from_db()
    assert empty.status == Product.Status.DRAFT


# --- Query counts do not grow with the data -------------------------------------------------


@pytest.mark.parametrize("variants", [1, 100])
def test_product_page_queries_do_not_grow_with_variants(
    client, django_assert_max_num_queries, variants, warm_menu
):
    category = CategoryFactory(parent=CategoryFactory())
    product = ProductFactory(title="Big Range", slug="big-range", category=category)
    option = option_set(product=product, name="Size", values=[f"S{i}" for i in range(variants)])
    for value in option.values.all():
        VariantFactory(product=product, option_values=[value])
    warm_menu()
    with django_assert_max_num_queries(6):
        assert client.get("/products/big-range/").status_code == 200


@pytest.mark.parametrize("count", [12, 48])
def test_category_page_queries_do_not_grow_with_products(
    client, django_assert_max_num_queries, count, warm_menu
):
    category = CategoryFactory(slug="lots")
    for index in range(count):
        VariantFactory(product=ProductFactory(category=category, title=f"Item {index}"))
    warm_menu()
    with django_assert_max_num_queries(8):
        assert client.get("/categories/lots/").status_code == 200


# --- The cached product page ----------------------------------------------------------------


def test_a_repeat_visit_is_served_from_the_cache(client, django_assert_num_queries, warm_menu):
    product = product_with_sizes()
    client.get(f"/products/{product.slug}/")
    with django_assert_num_queries(1):  # the product row, which keys the cache
        response = client.get(f"/products/{product.slug}/")
    assert "€30.00" in response.text


def test_a_price_change_shows_at_once(client):
    from catalog.services import variant_save

    product = product_with_sizes()
    client.get(f"/products/{product.slug}/")
    variant = product.variants.order_by("price").first()
    variant.price = Decimal("27.00")
    variant_save(variant=variant)
    assert "€27.00" in client.get(f"/products/{product.slug}/").text


def test_visitor_specific_html_is_not_shared_through_the_cache(client, django_user_model):
    from django.test import Client

    product = product_with_sizes()
    first, second = Client(), Client()
    page_one = first.get(f"/products/{product.slug}/").text
    page_two = second.get(f"/products/{product.slug}/").text
    token = re.compile(r'"X-CSRFToken": "([^"]+)"')
    assert token.search(page_one)[1] != token.search(page_two)[1]
    second.force_login(django_user_model.objects.create_user("ava@example.net", "pw-12345678"))
    assert ">Account<" in second.get(f"/products/{product.slug}/").text


def test_staff_preview_is_never_cached(client, roles, staff_login):
    product = product_with_sizes(status=Product.Status.DRAFT)
    staff_login(StaffFactory(role="Manager"))
    assert "Preview: this product is" in client.get(f"/products/{product.slug}/").text
    client.logout()
    assert client.get(f"/products/{product.slug}/").status_code == 404


def test_an_empty_search_lists_the_whole_shop(client):
    product_with_sizes("Brass Lamp")
    page = client.get("/search/").text
    assert "<h1>All products</h1>" in page
    assert "Brass Lamp" in page


def test_search_pages_keep_the_query_encoded(client):
    for index in range(30):
        product_with_sizes(f"Salt & Pepper Mill {index}", description="salt & pepper")
    page = client.get("/search/", {"q": "salt & pepper"}).text
    assert 'href="?q=salt+%26+pepper&amp;page=2"' in page


def test_made_up_choices_share_the_cached_page_of_their_variant(client, django_assert_num_queries):
    product = product_with_sizes()
    client.get(f"/products/{product.slug}/")
    for junk in range(3):
        with django_assert_num_queries(1):
            client.get(f"/products/{product.slug}/", {f"opt-junk{junk}": junk})


@pytest.mark.parametrize("path", ["/products/linen-shirt/", "/categories/all/", "/search/?q=shirt"])
def test_pages_with_htmx_fragments_vary_on_hx_request_and_restore_history(client, path):
    product_with_sizes(category=CategoryFactory(slug="all"))
    response = client.get(path, headers={"HX-Request": "true"})
    assert "HX-Request" in response["Vary"]
    assert "<html" not in response.text
    restored = client.get(
        path, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.text


def test_unticking_a_filter_is_possible_because_the_form_targets_the_bare_path(client):
    category = CategoryFactory(slug="all")
    product_with_sizes(category=category)
    page = client.get("/categories/all/", {"vendor": "Northwind"}).text
    assert 'hx-get="/categories/all/"' in page


def test_an_absurd_price_filter_is_explained_not_a_server_error(client):
    product_with_sizes(category=CategoryFactory(slug="all"))
    response = client.get("/categories/all/", {"min": "1e999999", "max": "99999999999999"})
    assert response.status_code == 200
    assert "“1e999999” is not a price" in response.text


def test_the_header_lists_departments_from_one_cached_query(client, django_assert_num_queries):
    from catalog.services import category_save

    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    CategoryFactory(name="Pans", slug="pans", parent=kitchen)
    with django_assert_num_queries(3):  # featured collections, newest products, the menu
        page = client.get("/").text
    assert '<a href="/categories/kitchen/">Kitchen</a>' in page
    assert "Pans</a>" not in page  # top level only
    with django_assert_num_queries(2):
        client.get("/")
    kitchen.name = "Cooking"
    category_save(category=kitchen)
    assert ">Cooking</a>" in client.get("/").text


@pytest.mark.postgres
def test_a_title_match_survives_the_candidate_cut_on_a_broad_word(client, monkeypatch):
    import catalog.selectors as selectors

    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 3)
    for index in range(6):
        product_with_sizes(f"Hook {index}", description="Hang a lantern from it.")
    product_with_sizes("Storm Lantern")
    page = client.get("/search/", {"q": "lantern"}).text
    assert "Storm Lantern" in page
    assert page.index("Storm Lantern") < page.index("Hook")


def test_in_stock_only_and_the_product_pages_availability(client):
    from catalog.services import availability_set

    category = CategoryFactory(slug="all")
    sold_out = product_with_sizes("Sold Out Mug", prices=("8.00",), category=category)
    product_with_sizes("Plenty Lamp", prices=("9.00",), category=category)
    availability_set(in_stock={sold_out.variants.get().pk: False})
    page = client.get("/categories/all/", {"in_stock": "1"}).text
    assert "Plenty Lamp" in page
    assert "Sold Out Mug" not in page
    product_page = client.get(f"/products/{sold_out.slug}/").text
    assert "Out of stock" in product_page
    assert '"availability": "https://schema.org/OutOfStock"' in product_page
