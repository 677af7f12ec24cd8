"""Dashboard pages for categories and collections: pages, htmx regions, bad input, access."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, Collection, Product
from catalog.services import CatalogError
from tests.factories import CategoryFactory, ProductFactory, StaffFactory, VariantFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def manager(client, roles, staff_login):
    user = StaffFactory(role="Manager")
    staff_login(user)
    return user


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target}


def rule_rows(*rows: tuple[str, str, str], total: int | None = None) -> dict[str, str]:
    """The rules formset as the page posts it: (field, op, value) per row."""
    data = {
        "rules-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "rules-INITIAL_FORMS": "0",
    }
    for index, (field, op, value) in enumerate(rows):
        data |= {
            f"rules-{index}-field": field,
            f"rules-{index}-op": op,
            f"rules-{index}-value": value,
        }
    return data


def collection_post(**fields: object) -> dict[str, object]:
    data = {
        "title": "Summer",
        "slug": "",
        "description": "",
        "kind": "manual",
        "match": "all",
        "position": "0",
        "seo_title": "",
        "seo_description": "",
        "editor": "save",
    }
    data |= rule_rows(("", "", ""))
    data.update(fields)
    return data


# --- Category list ---------------------------------------------------------------------------


def test_category_list_shows_the_tree_indented_with_product_counts(client, manager):
    kitchen = CategoryFactory(name="Kitchen", position=1)
    garden = CategoryFactory(name="Garden", position=0)
    pans = CategoryFactory(name="Pans", parent=kitchen)
    ProductFactory(category=pans)
    ProductFactory(category=pans)
    ProductFactory(category=kitchen)

    response = client.get("/dashboard/catalog/categories/")

    assert response.status_code == 200
    html = response.text
    # Siblings by position (Garden before Kitchen), children right under their parent.
    assert html.index(">Garden<") < html.index(">Kitchen<") < html.index(">Pans<")
    assert "Pans, in Kitchen" in html  # the indentation, told to screen readers too
    row = html.split(">Kitchen<", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in row  # its own product
    assert '<td class="num">3</td>' in row  # with the subcategory's
    # Only an empty leaf offers Delete.
    assert f"/dashboard/catalog/categories/{garden.pk}/delete/" in html
    assert f"/dashboard/catalog/categories/{kitchen.pk}/delete/" not in html
    assert f"/dashboard/catalog/categories/{pans.pk}/delete/" not in html


def test_category_list_htmx_answers_with_the_rows_only(client, manager):
    CategoryFactory(name="Kitchen")
    response = client.get("/dashboard/catalog/categories/", headers=HTMX)
    assert response.text.lstrip().startswith('<div id="category-rows"')
    assert "Kitchen" in response.text
    assert "<html" not in response.text


def test_category_list_empty_state(client, manager):
    response = client.get("/dashboard/catalog/categories/")
    assert "No categories yet" in response.text
    assert 'href="/dashboard/catalog/categories/new/"' in response.text


@pytest.mark.parametrize("count", [3, 30])
def test_category_list_queries_do_not_grow_with_the_tree(
    client, manager, django_assert_max_num_queries, count
):
    parent = None
    for index in range(count):
        # Every third starts a new branch: a tree, not a flat list.
        parent = CategoryFactory(parent=None if index % 3 == 0 else parent)
        ProductFactory(category=parent)
    # Session, user, permissions (user and groups), the tree with its counts.
    with django_assert_max_num_queries(5):
        assert client.get("/dashboard/catalog/categories/").status_code == 200


# --- Category form ---------------------------------------------------------------------------


def test_new_category_page_lists_parents_as_an_indented_tree(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    CategoryFactory(name="Pans", parent=kitchen)
    response = client.get("/dashboard/catalog/categories/new/")
    assert response.status_code == 200
    assert "None: a top-level category" in response.text
    assert ">\u2003Pans</option>" in response.text


def test_creating_a_category_makes_its_slug_and_path(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    response = client.post(
        "/dashboard/catalog/categories/new/",
        {"name": "Cast iron pans", "slug": "", "parent": kitchen.pk, "position": "2"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/catalog/categories/"
    created = Category.objects.get(name="Cast iron pans")
    assert created.slug == "cast-iron-pans"
    assert created.path == f"{kitchen.path}{created.pk}/"


def test_edit_page_leaves_the_category_and_its_subtree_out_of_the_parents(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    pans = CategoryFactory(name="Pans", parent=kitchen)
    CategoryFactory(name="Woks", parent=pans)
    CategoryFactory(name="Garden")
    response = client.get(f"/dashboard/catalog/categories/{pans.pk}/")
    assert response.status_code == 200
    parent_select = response.text.split('name="parent"', 1)[1].split("</select>", 1)[0]
    assert ">Kitchen</option>" in parent_select
    assert ">Garden</option>" in parent_select
    assert "Pans</option>" not in parent_select
    assert "Woks</option>" not in parent_select


def test_moving_a_category_into_its_own_child_is_refused_and_changes_nothing(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    pans = CategoryFactory(name="Pans", parent=kitchen)
    response = client.post(
        f"/dashboard/catalog/categories/{kitchen.pk}/",
        {"name": "Kitchen renamed", "slug": kitchen.slug, "parent": pans.pk, "position": "0"},
    )
    assert response.status_code == 200
    assert "Choose a parent outside this category and its subcategories." in response.text
    assert "Nothing was saved" in response.text
    assert "field--invalid" in response.text
    kitchen.refresh_from_db()
    assert (kitchen.name, kitchen.parent_id, kitchen.path) == ("Kitchen", None, f"/{kitchen.pk}/")


def test_a_refusal_of_category_save_is_shown_beside_the_parent(client, manager, monkeypatch):
    # The form already hides loops; category_save is the last word when the tree moved
    # under the form (another member of staff, another tab).
    def refuse(*, category: Category) -> Category:
        raise CatalogError("A category cannot be placed inside itself or its children.")

    monkeypatch.setattr("catalog.views.staff_taxonomy.category_save", refuse)
    kitchen = CategoryFactory(name="Kitchen")
    response = client.post(
        f"/dashboard/catalog/categories/{kitchen.pk}/",
        {"name": "Kitchen", "slug": kitchen.slug, "parent": "", "position": "0"},
    )
    assert response.status_code == 200
    parent_field = response.text.split('for="id_parent"', 1)[1].split('<div class="field', 1)[0]
    assert "cannot be placed inside itself" in parent_field


def test_a_taken_category_slug_is_refused(client, manager):
    CategoryFactory(name="Kitchen", slug="kitchen")
    response = client.post(
        "/dashboard/catalog/categories/new/",
        {"name": "Cooking", "slug": "kitchen", "parent": "", "position": "0"},
    )
    assert response.status_code == 200
    assert "Category with this Slug already exists." in response.text
    assert not Category.objects.filter(name="Cooking").exists()


def test_unknown_category_is_404(client, manager):
    assert client.get("/dashboard/catalog/categories/999999/").status_code == 404


# --- Category delete -------------------------------------------------------------------------


def test_deleting_an_empty_category(client, manager):
    garden = CategoryFactory(name="Garden")
    response = client.post(f"/dashboard/catalog/categories/{garden.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/catalog/categories/"
    assert not Category.objects.filter(pk=garden.pk).exists()
    assert "Deleted “Garden”." in client.get(response["Location"]).text


def test_delete_is_post_only(client, manager):
    garden = CategoryFactory()
    assert client.get(f"/dashboard/catalog/categories/{garden.pk}/delete/").status_code == 405
    assert Category.objects.filter(pk=garden.pk).exists()


def test_deleting_a_category_with_children_is_refused(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    CategoryFactory(parent=kitchen)
    response = client.post(f"/dashboard/catalog/categories/{kitchen.pk}/delete/", follow=True)
    assert "“Kitchen” has 1 subcategory: move or delete them first." in response.text
    assert Category.objects.filter(pk=kitchen.pk).exists()


def test_deleting_a_category_with_products_is_refused(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    ProductFactory(category=kitchen)
    ProductFactory(category=kitchen)
    response = client.post(f"/dashboard/catalog/categories/{kitchen.pk}/delete/", follow=True)
    assert "“Kitchen” holds 2 products: move them to another category first." in response.text
    assert Category.objects.filter(pk=kitchen.pk).exists()
    assert Product.objects.filter(category=kitchen).count() == 2


def test_deleting_from_the_list_with_htmx_answers_with_fresh_rows(client, manager):
    garden = CategoryFactory(name="Garden")
    kitchen = CategoryFactory(name="Kitchen")
    CategoryFactory(parent=kitchen)
    response = client.post(
        f"/dashboard/catalog/categories/{garden.pk}/delete/", headers=htmx("category-rows")
    )
    assert response.text.lstrip().startswith('<div id="category-rows"')
    assert "Deleted “Garden”." in response.text
    assert ">Garden<" not in response.text
    refused = client.post(
        f"/dashboard/catalog/categories/{kitchen.pk}/delete/", headers=htmx("category-rows")
    )
    assert "has 1 subcategory" in refused.text
    assert Category.objects.filter(pk=kitchen.pk).exists()


def test_edit_page_explains_why_a_category_cannot_be_deleted(client, manager):
    kitchen = CategoryFactory(name="Kitchen")
    ProductFactory(category=kitchen)
    response = client.get(f"/dashboard/catalog/categories/{kitchen.pk}/")
    assert "It holds 1 product: move the products elsewhere before deleting it." in response.text
    assert f"/dashboard/catalog/categories/{kitchen.pk}/delete/" not in response.text


# --- Collection list -------------------------------------------------------------------------


def test_collection_list_shows_kind_featured_and_product_counts(client, manager):
    cheap, dear = ProductFactory(title="Cheap"), ProductFactory(title="Dear")
    VariantFactory(product=cheap, price=Decimal("10.00"))
    VariantFactory(product=dear, price=Decimal("90.00"))
    picks = Collection.objects.create(title="Staff picks", slug="picks", featured=True)
    picks.products.set([cheap, dear])
    Collection.objects.create(
        title="Under 25",
        slug="under-25",
        kind=Collection.Kind.RULES,
        rules=[{"field": "price", "op": "lt", "value": "25"}],
        position=1,
    )

    response = client.get("/dashboard/catalog/collections/")

    html = response.text
    assert response.status_code == 200
    picks_row = html.split(">Staff picks<", 1)[1].split("</tr>", 1)[0]
    assert "Hand-picked" in picks_row
    assert "Featured" in picks_row
    assert '<td class="num">2</td>' in picks_row
    rules_row = html.split(">Under 25<", 1)[1].split("</tr>", 1)[0]
    assert "By rules" in rules_row
    assert '<td class="num">1</td>' in rules_row


def test_collection_list_flags_rules_it_cannot_read(client, manager):
    Collection.objects.create(
        title="Broken",
        slug="broken",
        kind=Collection.Kind.RULES,
        rules=[{"field": "price", "op": "lt", "value": "cheap"}],
    )
    response = client.get("/dashboard/catalog/collections/")
    assert response.status_code == 200
    assert "Fix rules" in response.text


def test_collection_list_htmx_answers_with_the_rows_only(client, manager):
    Collection.objects.create(title="Staff picks", slug="picks")
    response = client.get("/dashboard/catalog/collections/", headers=HTMX)
    assert response.text.lstrip().startswith('<div id="collection-rows"')
    assert "Staff picks" in response.text


@pytest.mark.parametrize("count", [3, 30])
def test_collection_list_queries_do_not_grow_with_hand_picked_collections(
    client, manager, django_assert_max_num_queries, count
):
    products = [ProductFactory() for _ in range(3)]
    for index in range(count):
        collection = Collection.objects.create(title=f"Collection {index}", slug=f"c-{index}")
        collection.products.set(products[: index % 3])
    with django_assert_max_num_queries(5):
        assert client.get("/dashboard/catalog/collections/").status_code == 200


def test_collection_list_costs_one_count_per_rule_collection(client, manager):
    # Documented trade-off: collections are few and the list is capped at 200.
    def make(count: int) -> None:
        for index in range(count):
            Collection.objects.create(
                title=f"Rules {index}",
                slug=f"rules-{Collection.objects.count()}",
                kind=Collection.Kind.RULES,
                rules=[{"field": "vendor", "op": "eq", "value": "Northwind"}],
            )

    make(2)
    with CaptureQueriesContext(connection) as two:
        client.get("/dashboard/catalog/collections/")
    make(3)
    with CaptureQueriesContext(connection) as five:
        client.get("/dashboard/catalog/collections/")
    assert len(five) - len(two) == 3


# --- Collection form -------------------------------------------------------------------------


def test_new_collection_page(client, manager):
    response = client.get("/dashboard/catalog/collections/new/")
    assert response.status_code == 200
    html = response.text
    assert "<h1>New collection</h1>" in html
    assert 'id="product-q"' in html
    # Blank rule rows, so rules can be added without JavaScript.
    assert 'name="rules-TOTAL_FORMS" value="2"' in html


def test_creating_a_hand_picked_collection(client, manager):
    lamp, rug = ProductFactory(title="Lamp"), ProductFactory(title="Rug")
    response = client.post(
        "/dashboard/catalog/collections/new/",
        collection_post(title="Living room", products=[lamp.pk, rug.pk], featured="on"),
    )
    assert response.status_code == 302
    collection = Collection.objects.get(title="Living room")
    assert collection.slug == "living-room"
    assert collection.featured
    assert set(collection.products.all()) == {lamp, rug}


def test_creating_a_rule_collection_keeps_complete_rows_and_skips_blank_ones(client, manager):
    data = collection_post(title="Cheap lamps", kind="rules", match="all")
    data |= rule_rows(("price", "lt", "25,50"), ("", "", ""), ("tag", "", "lamp"))
    response = client.post("/dashboard/catalog/collections/new/", data)
    assert response.status_code == 302
    collection = Collection.objects.get(title="Cheap lamps")
    assert collection.rules == [
        {"field": "price", "op": "lt", "value": "25.50"},
        {"field": "tag", "op": "eq", "value": "lamp"},  # the only test a tag has
    ]


def test_edit_page_shows_chosen_products_and_saved_rules(client, manager):
    lamp = ProductFactory(title="Brass lamp")
    collection = Collection.objects.create(
        title="Lights", slug="lights", rules=[{"field": "vendor", "op": "eq", "value": "Acme"}]
    )
    collection.products.set([lamp])
    response = client.get(f"/dashboard/catalog/collections/{collection.pk}/")
    html = response.text
    assert response.status_code == 200
    assert f'<input type="hidden" name="products" value="{lamp.pk}">' in html
    assert "Brass lamp" in html
    assert 'name="rules-0-value" value="Acme"' in html
    assert 'name="rules-TOTAL_FORMS" value="3"' in html  # the rule and two blank rows
    assert 'href="/collections/lights/"' in html


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (("price", "lt", "cheap"), "value", "Enter a price as a number, e.g. 25 or 19.90."),
        (("price", "eq", "20"), "op", "A price rule compares"),
        (("price", "", "-3"), "value", "Enter a price as a number"),
        (("tag", "lt", "summer"), "op", "A tag rule matches exactly: choose “is”."),
        (("vendor", "eq", "  "), "value", "Enter the vendor to match."),
        (("", "eq", "summer"), "field", "Choose what the rule looks at"),
    ],
)
def test_bad_rules_are_refused_beside_the_input_and_nothing_is_written(
    client, manager, row, field, message
):
    collection = Collection.objects.create(
        title="Summer",
        slug="summer",
        kind=Collection.Kind.RULES,
        rules=[{"field": "tag", "op": "eq", "value": "summer"}],
    )
    data = collection_post(title="Renamed", slug="summer", kind="rules") | rule_rows(row)
    response = client.post(f"/dashboard/catalog/collections/{collection.pk}/", data)
    assert response.status_code == 200
    html = response.text
    cell = html.split(f'for="id_rules-0-{field}"', 1)[1].split("</div>", 1)[0]
    assert message in cell
    assert "Nothing was saved: fix what is marked below." in html
    collection.refresh_from_db()
    assert collection.title == "Summer"
    assert collection.rules == [{"field": "tag", "op": "eq", "value": "summer"}]


def test_a_rule_collection_without_rules_is_refused(client, manager):
    response = client.post(
        "/dashboard/catalog/collections/new/", collection_post(title="Empty", kind="rules")
    )
    assert response.status_code == 200
    assert "A collection by rules needs at least one rule." in response.text
    assert not Collection.objects.filter(title="Empty").exists()


def test_a_taken_collection_slug_is_refused(client, manager):
    Collection.objects.create(title="Summer", slug="summer")
    response = client.post(
        "/dashboard/catalog/collections/new/", collection_post(title="Sun", slug="summer")
    )
    assert response.status_code == 200
    assert "Collection with this Slug already exists." in response.text
    assert Collection.objects.count() == 1


def test_a_deleted_product_in_the_picks_is_refused_with_a_clear_message(client, manager):
    response = client.post(
        "/dashboard/catalog/collections/new/", collection_post(products=["999999"])
    )
    assert response.status_code == 200
    assert "A chosen product was deleted meanwhile" in response.text
    assert not Collection.objects.exists()


# --- Collection form: the htmx regions and their plain-form fallbacks -------------------------


def test_product_search_htmx_lists_matches_except_those_chosen(client, manager):
    chosen = ProductFactory(title="Brass lamp")
    other = ProductFactory(title="Paper lamp")
    ProductFactory(title="Rug")
    response = client.get(
        "/dashboard/catalog/collections/new/",
        {"product_q": "lamp", "products": [chosen.pk]},
        headers=htmx("product-results"),
    )
    html = response.text
    assert html.lstrip().startswith('<div id="product-results"')
    assert f'value="product-add-{other.pk}"' in html
    assert "Brass lamp" not in html
    assert "Rug" not in html


def test_adding_a_product_htmx_returns_the_chosen_list_and_refreshes_search(client, manager):
    lamp, rug = ProductFactory(title="Lamp"), ProductFactory(title="Rug")
    data = collection_post(products=[lamp.pk], editor=f"product-add-{rug.pk}")
    response = client.post(
        "/dashboard/catalog/collections/new/", data, headers=htmx("chosen-products")
    )
    html = response.text
    assert html.lstrip().startswith('<div id="chosen-products"')
    assert f'name="products" value="{lamp.pk}"' in html
    assert f'name="products" value="{rug.pk}"' in html
    assert "picker-changed" in json.loads(response["HX-Trigger-After-Swap"])
    assert not Collection.objects.exists()


def test_removing_a_product_without_javascript_re_renders_the_page_unsaved(client, manager):
    lamp, rug = ProductFactory(title="Lamp"), ProductFactory(title="Rug")
    collection = Collection.objects.create(title="Lights", slug="lights")
    collection.products.set([lamp, rug])
    data = collection_post(title="Lights, renamed", slug="lights", products=[lamp.pk, rug.pk]) | {
        "editor": f"product-remove-{rug.pk}"
    }
    response = client.post(f"/dashboard/catalog/collections/{collection.pk}/", data)
    html = response.text
    assert "<html" in html
    assert 'value="Lights, renamed"' in html  # what was typed survives
    assert f'name="products" value="{rug.pk}"' not in html
    assert set(collection.products.all()) == {lamp, rug}  # nothing saved until Save


def test_search_without_javascript_shows_results_in_the_page(client, manager):
    ProductFactory(title="Paper lamp")
    response = client.post(
        "/dashboard/catalog/collections/new/",
        collection_post(product_q="lamp", editor="search", title=""),
    )
    assert "<html" in response.text
    assert "Paper lamp" in response.text
    assert "This field is required." not in response.text  # not saving: no errors yet


def test_adding_a_rule_row_htmx_and_without_javascript(client, manager):
    data = collection_post(kind="rules", editor="rule-add") | rule_rows(("tag", "eq", "x"))
    partial = client.post("/dashboard/catalog/collections/new/", data, headers=htmx("rules"))
    assert partial.text.lstrip().startswith('<div id="rules"')
    assert 'name="rules-TOTAL_FORMS" value="2"' in partial.text
    assert 'name="rules-0-value" value="x"' in partial.text
    page = client.post("/dashboard/catalog/collections/new/", data)
    assert "<html" in page.text
    assert 'name="rules-TOTAL_FORMS" value="2"' in page.text
    assert not Collection.objects.exists()


def test_removing_a_rule_row_htmx(client, manager):
    data = collection_post(kind="rules", editor="rule-remove-0") | rule_rows(
        ("tag", "eq", "first"), ("tag", "eq", "second")
    )
    response = client.post("/dashboard/catalog/collections/new/", data, headers=htmx("rules"))
    assert 'name="rules-TOTAL_FORMS" value="1"' in response.text
    assert 'name="rules-0-value" value="second"' in response.text
    assert "first" not in response.text


def test_rule_preview_counts_matching_products(client, manager):
    cheap, dear = ProductFactory(title="Cheap"), ProductFactory(title="Dear")
    VariantFactory(product=cheap, price=Decimal("10.00"))
    VariantFactory(product=dear, price=Decimal("90.00"))
    data = collection_post(kind="rules", editor="preview") | rule_rows(
        ("price", "lt", "25"), ("tag", "eq", "")
    )
    response = client.post(
        "/dashboard/catalog/collections/new/", data, headers=htmx("rule-preview")
    )
    html = response.text
    assert "<p" not in html  # only the text: the paragraph itself stays in the page
    assert "<strong>1 product</strong> matches these rules, 1 of them active." in html
    assert "left out of this count" in html  # the tag row without a value


def test_changing_the_kind_htmx_returns_both_sections_with_the_right_one_open(client, manager):
    data = collection_post(kind="rules", editor="kind")
    response = client.post("/dashboard/catalog/collections/new/", data, headers=htmx("kind-panel"))
    html = response.text
    assert html.lstrip().startswith('<div id="kind-panel"')
    picker, rules = html.split("</details>", 1)
    assert '<details class="card">' in picker  # closed: not the chosen kind
    assert "kept but not used while the kind is “By rules”" in picker
    assert '<details class="card" open>' in rules


def test_unknown_collection_is_404(client, manager):
    assert client.get("/dashboard/catalog/collections/999999/").status_code == 404


# --- Collection delete -----------------------------------------------------------------------


def test_deleting_a_collection_keeps_its_products(client, manager):
    lamp = ProductFactory()
    collection = Collection.objects.create(title="Lights", slug="lights")
    collection.products.set([lamp])
    assert client.get(f"/dashboard/catalog/collections/{collection.pk}/delete/").status_code == 405
    response = client.post(f"/dashboard/catalog/collections/{collection.pk}/delete/")
    assert response["Location"] == "/dashboard/catalog/collections/"
    assert not Collection.objects.exists()
    assert Product.objects.filter(pk=lamp.pk).exists()


def test_deleting_a_collection_from_the_list_with_htmx(client, manager):
    collection = Collection.objects.create(title="Lights", slug="lights")
    response = client.post(
        f"/dashboard/catalog/collections/{collection.pk}/delete/",
        headers=htmx("collection-rows"),
    )
    assert response.text.lstrip().startswith('<div id="collection-rows"')
    assert "Deleted “Lights”." in response.text


# --- Access ----------------------------------------------------------------------------------


def _urls() -> dict[str, tuple[str, str]]:
    category = CategoryFactory()
    collection = Collection.objects.create(title="Lights", slug="lights")
    return {
        "category list": ("get", "/dashboard/catalog/categories/"),
        "category new": ("get", "/dashboard/catalog/categories/new/"),
        "category edit": ("get", f"/dashboard/catalog/categories/{category.pk}/"),
        "category delete": ("post", f"/dashboard/catalog/categories/{category.pk}/delete/"),
        "collection list": ("get", "/dashboard/catalog/collections/"),
        "collection new": ("get", "/dashboard/catalog/collections/new/"),
        "collection edit": ("get", f"/dashboard/catalog/collections/{collection.pk}/"),
        "collection delete": ("post", f"/dashboard/catalog/collections/{collection.pk}/delete/"),
    }


@pytest.mark.parametrize("role", ["Warehouse", "Support", "Marketing"])
def test_read_only_roles_see_the_lists_and_get_403_on_changes(client, roles, staff_login, role):
    staff_login(StaffFactory(role=role))
    urls = _urls()
    for name, (method, url) in urls.items():
        response = getattr(client, method)(url)
        expected = 200 if name.endswith("list") else 403
        assert response.status_code == expected, (name, response.status_code)
    assert Category.objects.count() == 1
    assert Collection.objects.count() == 1
    # The lists offer nothing they may not do.
    html = client.get("/dashboard/catalog/categories/").text
    assert "Add category" not in html
    assert "/delete/" not in html
    assert "/dashboard/catalog/categories/" + str(Category.objects.get().pk) not in html


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for method, url in _urls().values():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/dashboard/login/?next=")
    assert Category.objects.count() == 1
    assert Collection.objects.count() == 1
