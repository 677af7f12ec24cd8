from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import csv_io
from catalog.csv_io import (
    COLUMNS,
    CsvImportError,
    products_csv_export,
    products_csv_parse,
    products_import,
)
from catalog.management.commands import import_products
from catalog.models import OptionValue, PriceChange, Product, ProductOption, Tag, Variant
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

GOOD_ROWS = [
    {
        "handle": "tee",
        "title": "Tee",
        "description": "Soft cotton.\nWashes well.",
        "vendor": "Northwind",
        "product_type": "Shirts",
        "status": "active",
        "category": "shirts",
        "tags": "Summer, Cotton",
        "seo_title": "The tee",
        "option1_name": "Size",
        "option1_value": "S",
        "option2_name": "Colour",
        "option2_value": "Blue",
        "sku": "TEE-S-BLU",
        "barcode": "4006381333931",
        "price": "19.90",
        "compare_at_price": "29.90",
        "cost": "8.00",
        "weight_grams": "200",
        "track_inventory": "true",
    },
    {
        "handle": "tee",
        "option1_name": "Size",
        "option1_value": "M",
        "option2_name": "Colour",
        "option2_value": "Blue",
        "sku": "TEE-M-BLU",
        "price": "21.50",
        "cost": "8",
        "weight_grams": "210",
        "track_inventory": "true",
    },
    {
        "handle": "tee",
        "option1_value": "M",
        "option2_value": "Red",
        "sku": "TEE-M-RED",
        "price": "21,50",
        "track_inventory": "false",
    },
    {
        "handle": "mug",
        "title": "Mug",
        "status": "draft",
        "tags": "summer",
        "sku": "MUG-1",
        "price": "9",
    },
]


def make_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def parse(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> csv_io.ImportPlan:
    return products_csv_parse(file=io.BytesIO(make_csv(rows, columns)))


def import_rows(rows: list[dict[str, str]], **kwargs: object) -> csv_io.ImportResult:
    plan = parse(rows)
    assert plan.errors == []
    return products_import(plan=plan, **kwargs)


def counts() -> dict[str, int]:
    models = (Product, Variant, PriceChange, Tag, ProductOption, OptionValue)
    return {model.__name__: model.objects.count() for model in models}


def catalog_rows(products: int) -> list[dict[str, str]]:
    rows = []
    for n in range(products):
        for size in ("S", "M"):
            rows.append(
                {
                    "handle": f"item-{n}",
                    "title": f"Item {n}",
                    "category": "shirts",
                    "tags": f"tag-{n}, shared",
                    "option1_name": "Size",
                    "option1_value": size,
                    "sku": f"ITEM-{n}-{size}",
                    "price": f"{10 + n}.00",
                }
            )
    return rows


@pytest.fixture
def shirts():
    return CategoryFactory(name="Shirts", slug="shirts")


# --- Import ------------------------------------------------------------------------------------


def test_good_file_creates_products_options_variants_tags_and_price_history(shirts):
    result = import_rows(GOOD_ROWS)

    assert (result.products_created, result.variants_created, result.tags_created) == (2, 4, 2)
    tee = Product.objects.get(slug="tee")
    assert (tee.title, tee.vendor, tee.product_type, tee.status) == (
        "Tee",
        "Northwind",
        "Shirts",
        "active",
    )
    assert tee.description == "Soft cotton.\nWashes well."
    assert tee.category == shirts
    assert tee.published_at is not None
    assert sorted(tag.name for tag in tee.tags.all()) == ["Cotton", "Summer"]
    assert [(o.name, [v.value for v in o.values.all()]) for o in tee.options.all()] == [
        ("Size", ["S", "M"]),
        ("Colour", ["Blue", "Red"]),
    ]
    small, medium, red = tee.variants.order_by("position")
    assert (medium.title, medium.cost, medium.weight_grams) == ("M / Blue", Decimal("8.00"), 210)
    assert small.price == Decimal("19.90")
    assert small.compare_at_price == Decimal("29.90")
    assert small.cost == Decimal("8.00")
    assert (small.barcode, small.weight_grams, small.title) == ("4006381333931", 200, "S / Blue")
    assert red.price == Decimal("21.50")
    assert (red.track_inventory, red.title, red.compare_at_price) == (False, "M / Red", None)
    assert (tee.price_min, tee.price_max) == (Decimal("19.90"), Decimal("21.50"))
    mug = Product.objects.get(slug="mug")
    assert mug.status == "draft"
    assert [tag.name for tag in mug.tags.all()] == ["Summer"]  # matched case-insensitively
    assert mug.price_min == mug.price_max == Decimal("9.00")
    assert PriceChange.objects.filter(old_price__isnull=True).count() == 4


def test_reimport_of_the_same_file_changes_nothing(shirts):
    import_rows(GOOD_ROWS)
    before = counts()
    updated_at = Product.objects.get(slug="tee").updated_at

    result = import_rows(GOOD_ROWS)

    assert (result.products_created, result.products_updated, result.products_unchanged) == (
        0,
        0,
        2,
    )
    assert (result.variants_created, result.variants_updated, result.variants_unchanged) == (
        0,
        0,
        4,
    )
    assert result.tags_created == 0
    assert counts() == before
    assert Product.objects.get(slug="tee").updated_at == updated_at


def test_changed_price_updates_the_variant_its_history_and_the_listing_price(shirts):
    import_rows(GOOD_ROWS)
    rows = [dict(row) for row in GOOD_ROWS]
    rows[1]["price"] = "25.00"

    result = import_rows(rows)

    assert (result.variants_updated, result.variants_unchanged) == (1, 3)
    assert result.products_updated == 0
    change = PriceChange.objects.get(variant__sku="TEE-M-BLU", old_price__isnull=False)
    assert (change.old_price, change.new_price) == (Decimal("21.50"), Decimal("25.00"))
    assert Product.objects.get(slug="tee").price_max == Decimal("25.00")


def test_existing_product_is_updated_by_handle_and_its_variant_by_sku():
    product = ProductFactory(
        slug="lamp", title="Lamp", vendor="Acme", status="draft", published_at=None
    )
    VariantFactory(product=product, sku="LAMP-1", price=Decimal("19.90"))

    result = import_rows(
        [
            {
                "handle": "lamp",
                "title": "Desk lamp",
                "status": "active",
                "sku": "lamp-1",
                "price": "24",
            }
        ]
    )

    assert (result.products_updated, result.variants_updated) == (1, 1)
    product.refresh_from_db()
    # The file has a vendor column, blank: that clears the vendor.
    assert (product.title, product.status, product.vendor) == ("Desk lamp", "active", "")
    assert product.published_at is not None
    variant = product.variants.get()
    assert (variant.sku, variant.price) == ("lamp-1", Decimal("24.00"))
    assert product.price_min == Decimal("24.00")


def test_moving_a_variant_to_another_option_value_renames_it_and_drops_the_old_value(shirts):
    import_rows(catalog_rows(1))
    rows = catalog_rows(1)
    rows[1]["option1_value"] = "L"

    assert import_rows(rows).variants_updated == 1

    variant = Variant.objects.get(sku="ITEM-0-M")
    assert variant.title == "L"
    assert [value.value for value in variant.option_values.all()] == ["L"]
    assert list(OptionValue.objects.values_list("value", flat=True)) == ["S", "L"]
    again = import_rows(rows)
    assert (again.products_updated, again.variants_updated) == (0, 0)


def test_a_column_left_out_leaves_the_field_alone():
    product = ProductFactory(slug="lamp", vendor="Acme", description="Bright.")
    VariantFactory(product=product, sku="LAMP-1", price=Decimal("19.90"), weight_grams=500)

    plan = parse(
        [{"handle": "lamp", "sku": "LAMP-1", "price": "19.90"}], ("handle", "sku", "price")
    )
    result = products_import(plan=plan)

    assert (result.products_unchanged, result.variants_unchanged) == (1, 1)
    product.refresh_from_db()
    assert (product.vendor, product.description) == ("Acme", "Bright.")
    assert product.variants.get().weight_grams == 500


def test_bad_rows_are_each_reported_by_line_and_nothing_changes(shirts):
    existing = ProductFactory(slug="existing", title="Existing")
    VariantFactory(product=existing, sku="EX-1", price=Decimal("19.90"))
    before = counts()
    rows = [
        {
            "handle": "tee",
            "title": "Tee",
            "option1_name": "Size",
            "option1_value": "S",
            "sku": "TEE-S",
            "price": "10",
        },
        {
            "handle": "tee",
            "option1_name": "Size",
            "option1_value": "M",
            "sku": "TEE-M",
            "price": "11",
        },
        {
            "handle": "tee",
            "option1_name": "Size",
            "option1_value": "L",
            "sku": "TEE-L",
            "price": "abc",
        },
        {"handle": "existing", "sku": "EX-1", "price": "5"},
        {"handle": "mug", "title": "Mug", "sku": "MUG-1", "price": "9"},
        {"handle": "lamp", "title": "Lamp", "category": "nope", "sku": "LAMP-1", "price": "30"},
    ]

    plan = parse(rows)

    assert {error.line for error in plan.errors} == {4, 7}
    by_line = {error.line: str(error) for error in plan.errors}
    assert by_line[4] == "line 4: price: 'abc' is not an amount of money."
    assert by_line[7] == "line 7: category 'nope' does not exist."
    with pytest.raises(CsvImportError):
        products_import(plan=plan)
    assert counts() == before
    assert Variant.objects.get(sku="EX-1").price == Decimal("19.90")


def test_line_numbers_count_physical_lines_of_multiline_cells():
    rows = [
        {
            "handle": "tee",
            "title": "Tee",
            "description": "one\ntwo\nthree",
            "sku": "A",
            "price": "1",
        },
        {"handle": "mug", "title": "Mug", "sku": "B", "price": "-1"},
    ]

    assert [error.line for error in parse(rows).errors] == [5]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"status": "live"}, "status 'live' is not one of draft, active, archived."),
        ({"weight_grams": "-5"}, "weight_grams '-5' is not a whole number"),
        ({"weight_grams": "1.5"}, "weight_grams '1.5' is not a whole number"),
        ({"track_inventory": "maybe"}, "track_inventory 'maybe' is not true or false."),
        ({"compare_at_price": "10"}, "compare_at_price 10.00 must be above the price 10.00."),
        ({"cost": "1e"}, "cost: '1e' is not an amount of money."),
        ({"price": "99999999999"}, "price 99999999999 is too large."),
        ({"handle": "Bad handle!"}, "handle 'Bad handle!' is not a valid handle"),
        ({"handle": ""}, "handle is required."),
        ({"sku": ""}, "sku is required."),
        ({"price": ""}, "price is required."),
        ({"title": ""}, "title is required for a new product."),
        ({"option1_value": "S"}, "option1_value 'S' has no option name."),
        ({"option1_name": "Size"}, "option1_value is required: the product has option Size."),
        ({"option2_name": "Colour", "option2_value": "Red"}, "without gaps"),
    ],
)
def test_a_bad_cell_is_reported_with_its_reason(row, reason):
    plan = parse([{"handle": "tee", "title": "Tee", "sku": "TEE-1", "price": "10", **row}])

    assert [error.line for error in plan.errors] == [2]
    assert reason in plan.errors[0].message


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        ({"sku": "tee-1"}, "SKU tee-1 is also on line 2."),
        ({"option1_value": "S"}, "option values (S) repeat line 2"),
        (
            {"option1_name": "Colour", "option1_value": "M"},
            "option1_name 'Colour' differs from line 2",
        ),
        ({"option1_value": "s"}, "Size 's' is spelled 'S' on line 2."),
        ({"vendor": "Acme"}, "vendor 'Acme' differs from line 2"),
        ({"title": "Other"}, "title 'Other' differs from line 2"),
    ],
)
def test_rows_of_one_product_must_agree(second, reason):
    first = {"handle": "tee", "title": "Tee", "vendor": "Northwind", "option1_name": "Size"}
    rows = [
        {**first, "option1_value": "S", "sku": "TEE-1", "price": "10"},
        {"handle": "tee", "option1_value": "M", "sku": "TEE-2", "price": "10", **second},
    ]

    plan = parse(rows)

    assert [error.line for error in plan.errors] == [3]
    assert reason in plan.errors[0].message


def test_later_rows_may_repeat_product_cells():
    first = {"handle": "tee", "title": "Tee", "option1_name": "Size", "sku": "1", "price": "1"}
    rows = [
        {**first, "tags": "A, b", "status": "active", "option1_value": "S"},
        {**first, "tags": "B,a", "status": "ACTIVE", "option1_value": "M", "sku": "2"},
    ]

    assert parse(rows).errors == []


def test_a_product_without_options_has_one_variant():
    rows = [
        {"handle": "tee", "title": "Tee", "sku": "1", "price": "1"},
        {"handle": "tee", "sku": "2", "price": "1"},
    ]

    assert [str(error) for error in parse(rows).errors] == [
        "line 3: option values (no options) repeat line 2; each variant of a product "
        "needs its own combination."
    ]


def test_sku_of_another_product_is_refused():
    other = ProductFactory(slug="other")
    VariantFactory(product=other, sku="TAKEN-1")

    plan = parse([{"handle": "tee", "title": "Tee", "sku": "taken-1", "price": "10"}])

    assert [str(error) for error in plan.errors] == [
        "line 2: SKU taken-1 belongs to another product, other."
    ]


def test_variant_repeating_the_options_of_a_stored_variant_is_refused(shirts):
    import_rows(catalog_rows(1))

    plan = parse(
        [
            {
                "handle": "item-0",
                "option1_name": "Size",
                "option1_value": "S",
                "sku": "NEW",
                "price": "1",
            }
        ]
    )

    assert "repeat variant ITEM-0-S" in plan.errors[0].message


def test_options_of_a_stored_product_must_all_be_named(shirts):
    import_rows(catalog_rows(1))

    plan = parse([{"handle": "item-0", "sku": "ITEM-0-S", "price": "1"}])

    assert [str(error) for error in plan.errors] == [
        "line 2: the product has options the file does not name: Size."
    ]


def test_stored_compare_at_price_must_stay_above_a_new_price():
    product = ProductFactory(slug="lamp")
    VariantFactory(
        product=product, sku="LAMP-1", price=Decimal("10"), compare_at_price=Decimal("15")
    )

    plan = parse([{"handle": "lamp", "sku": "LAMP-1", "price": "20"}], ("handle", "sku", "price"))

    assert "compare_at_price 15.00 must be above the price 20.00" in plan.errors[0].message


def test_utf8_byte_order_mark_is_handled():
    data = b"\xef\xbb\xbf" + make_csv(
        [{"handle": "cafe", "title": "Café", "sku": "C-1", "price": "3"}]
    )

    result = products_import(plan=products_csv_parse(file=io.BytesIO(data)))

    assert result.products_created == 1
    assert Product.objects.get(slug="cafe").title == "Café"


def test_a_file_that_is_not_utf8_is_refused():
    data = "handle,title,sku,price\nmug,Mug,M-1,9\ncafe,Café,C-1,3\n".encode("latin-1")

    plan = products_csv_parse(file=io.BytesIO(data))

    assert plan.products == []
    assert len(plan.errors) == 1
    assert plan.errors[0].line == 3
    assert "not UTF-8" in plan.errors[0].message


def test_unknown_and_missing_columns_are_refused_by_name():
    plan = products_csv_parse(file=io.BytesIO(b"Handle,Title,colour,weight\ntee,Tee,red,3\n"))

    messages = [str(error) for error in plan.errors]
    assert messages[0].startswith("line 1: unknown columns: colour, weight.")
    assert messages[1] == "line 1: missing columns: sku, price."


def test_values_under_no_column_are_refused():
    plan = products_csv_parse(file=io.BytesIO(b"handle,title,sku,price\ntee,Tee,T-1,3,surprise\n"))

    assert [str(error) for error in plan.errors] == [
        "line 2: has values in columns the header does not name."
    ]


def test_too_many_rows_and_too_many_bytes_are_refused(monkeypatch):
    data = make_csv(catalog_rows(2))
    monkeypatch.setattr(csv_io, "MAX_ROWS", 3)
    assert [error.line for error in products_csv_parse(file=io.BytesIO(data)).errors] == [5]
    monkeypatch.setattr(csv_io, "MAX_BYTES", 100)
    assert "larger than" in products_csv_parse(file=io.BytesIO(data)).errors[0].message


def test_parse_queries_do_not_grow_with_the_rows(shirts, django_assert_max_num_queries):
    import_rows(catalog_rows(20))
    with CaptureQueriesContext(connection) as small:
        assert parse(catalog_rows(2)).errors == []
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert parse(catalog_rows(20)).errors == []


def test_progress_is_reported_every_hundred_rows():
    rows = [{"handle": f"p-{n}", "title": "P", "sku": f"P-{n}", "price": "1"} for n in range(120)]
    calls = []

    import_rows(rows, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(100, 120), (120, 120)]


# --- Export ------------------------------------------------------------------------------------


def test_export_reimports_unchanged(shirts):
    import_rows(GOOD_ROWS)
    exported = "".join(products_csv_export())

    result = products_import(plan=products_csv_parse(file=exported.encode()))
    assert (result.products_updated, result.variants_updated) == (0, 0)

    Product.objects.all().delete()
    products_import(plan=products_csv_parse(file=exported.encode()))
    assert "".join(products_csv_export()) == exported


def test_export_writes_product_cells_on_the_first_row_of_each_product(shirts):
    import_rows(GOOD_ROWS)

    rows = list(csv.DictReader(io.StringIO("".join(products_csv_export()))))

    assert [row["sku"] for row in rows] == ["MUG-1", "TEE-S-BLU", "TEE-M-BLU", "TEE-M-RED"]
    assert rows[1]["tags"] == "Cotton, Summer"
    assert (rows[1]["category"], rows[1]["compare_at_price"], rows[1]["price"]) == (
        "shirts",
        "29.90",
        "19.90",
    )
    assert (rows[3]["title"], rows[3]["option2_name"], rows[3]["option2_value"]) == (
        "",
        "Colour",
        "Red",
    )
    assert rows[3]["track_inventory"] == "false"


def test_export_query_count_does_not_grow_with_products(shirts, django_assert_num_queries):
    import_rows(catalog_rows(2))
    with CaptureQueriesContext(connection) as two:
        assert len(list(products_csv_export())) == 5
    import_rows(catalog_rows(20))

    with django_assert_num_queries(len(two.captured_queries)):
        assert len(list(products_csv_export())) == 41


def test_export_refuses_a_product_with_more_options_than_columns():
    product = ProductFactory(slug="many")
    for position, name in enumerate(("A", "B", "C", "D")):
        ProductOption.objects.create(product=product, name=name, position=position)

    with pytest.raises(csv_io.CatalogError, match="many"):
        list(products_csv_export())


# --- Commands ----------------------------------------------------------------------------------


def test_import_command_prints_the_counts(shirts, tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(make_csv(GOOD_ROWS))
    out = io.StringIO()

    call_command("import_products", str(path), stdout=out)

    assert "Products: 2 created, 0 updated, 0 unchanged." in out.getvalue()
    assert "Variants: 4 created" in out.getvalue()
    assert Variant.objects.count() == 4


def test_import_command_refuses_a_bad_file_naming_each_line(shirts, tmp_path):
    rows = [dict(row) for row in GOOD_ROWS]
    rows[1]["price"] = "free"
    rows[3]["category"] = "nope"
    path = tmp_path / "products.csv"
    path.write_bytes(make_csv(rows))
    err = io.StringIO()

    # Physical lines: the first row's description spans lines 2 and 3.
    with pytest.raises(CommandError, match=r"2 errors \(lines 4, 6\); nothing was imported"):
        call_command("import_products", str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 4: price: 'free' is not an amount of money.",
        "line 6: category 'nope' does not exist.",
    ]
    assert Product.objects.count() == 0


def test_import_command_dry_run_writes_nothing(shirts, tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(make_csv(GOOD_ROWS))
    out = io.StringIO()

    call_command("import_products", str(path), "--dry-run", stdout=out)

    assert "Dry run, nothing was written" in out.getvalue()
    assert "Products: 2 created" in out.getvalue()
    assert counts() == {key: 0 for key in counts()}


def test_import_command_prints_progress_for_long_files(shirts, tmp_path, monkeypatch):
    monkeypatch.setattr(import_products, "PROGRESS_FROM", 2)
    path = tmp_path / "products.csv"
    path.write_bytes(make_csv(GOOD_ROWS))
    out = io.StringIO()

    call_command("import_products", str(path), stdout=out)

    assert "4 of 4 rows…" in out.getvalue().splitlines()


def test_import_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_products", str(tmp_path / "missing.csv"))


def test_export_command_writes_stdout_or_a_file(shirts, tmp_path):
    import_rows(GOOD_ROWS)
    ProductFactory(slug="empty")
    expected = "".join(products_csv_export())
    out, err = io.StringIO(), io.StringIO()

    call_command("export_products", stdout=out, stderr=err)
    assert out.getvalue() == expected
    assert "1 products without variants were left out" in err.getvalue()

    path = tmp_path / "out.csv"
    call_command("export_products", "--output", str(path), stdout=io.StringIO(), stderr=err)
    assert path.read_bytes() == expected.encode()
    assert not (tmp_path / "out.csv.part").exists()


def test_export_defuses_spreadsheet_formulas_and_import_restores_them():
    from catalog.csv_io import products_csv_export, products_csv_parse, products_import

    variant = VariantFactory(product__vendor='=HYPERLINK("http://evil")', product__title="-Sale-")
    exported = "".join(products_csv_export())
    assert "'=HYPERLINK" in exported
    assert ",'-Sale-," in exported
    Product.objects.all().delete()
    plan = products_csv_parse(file=exported.encode())
    assert plan.errors == []
    products_import(plan=plan)
    product = Product.objects.get(slug=variant.product.slug)
    assert product.vendor == '=HYPERLINK("http://evil")'
    assert product.title == "-Sale-"
