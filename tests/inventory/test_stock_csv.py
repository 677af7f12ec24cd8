from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from inventory.models import StockLevel, StockMovement
from inventory.services import stock_allocate
from inventory.stock_csv import stock_csv_export, stock_csv_import, stock_csv_parse
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db
HEADER = "sku,warehouse,on_hand,bin_location,reorder_point,safety_stock,reorder_quantity\n"


@pytest.fixture
def shop():
    main = WarehouseFactory(code="main")
    mug, pan = VariantFactory(sku="MUG-1"), VariantFactory(sku="PAN-1")
    stock(mug, main, 5)
    return main, mug, pan


def test_counts_go_through_the_ledger_and_settings_are_set(shop):
    _main, mug, _pan = shop
    plan = stock_csv_parse(
        data=(HEADER + "mug-1,MAIN,3,A-01,4,1,12\nPAN-1,main,7,B-02,2,1,10\n").encode()
    )
    assert plan.errors == []
    assert stock_csv_import(plan=plan) == {"counted": 2, "unchanged": 0}
    mug_level = StockLevel.objects.get(variant=mug)
    assert (mug_level.on_hand, mug_level.bin_location, mug_level.reorder_point) == (3, "A-01", 4)
    counts = StockMovement.objects.filter(reason="count").order_by("delta")
    assert list(counts.values_list("delta", flat=True)) == [-2, 7]


def test_every_bad_line_is_reported_and_nothing_changes(shop):
    data = (
        HEADER
        + "MUG-1,main,4,,,,\n"
        + "NOPE-1,main,1,,,,\n"
        + "MUG-1,attic,1,,,,\n"
        + "PAN-1,main,-3,,,,\n"
        + "MUG-1,main,2,,,,\n"
    )
    plan = stock_csv_parse(data=data.encode())
    assert plan.errors == [
        "line 3: no variant has the SKU 'NOPE-1'.",
        "line 4: no warehouse has the code 'attic'.",
        "line 5: on_hand '-3' is not a whole number from 0 to 1,000,000.",
        "line 6: the same SKU and warehouse as line 2.",
    ]
    with pytest.raises(Exception, match="4 errors; nothing was imported"):
        stock_csv_import(plan=plan)
    assert StockLevel.objects.get(variant=shop[1]).on_hand == 5


def test_a_count_below_what_orders_hold_is_refused(shop):
    _main, mug, _ = shop
    stock_allocate(reference="order:1", lines={mug.pk: 4})
    plan = stock_csv_parse(data=(HEADER + "MUG-1,main,3,,,,\n").encode())
    assert plan.errors == ["line 2: on_hand 3 is fewer than the 4 allocated to orders."]


def test_unknown_or_missing_columns_and_bad_encoding(shop):
    assert stock_csv_parse(data=b"sku,colour\nMUG-1,red\n").errors == [
        "line 1: missing columns: warehouse, on_hand.",
        "line 1: unknown columns: colour.",
    ]
    assert "not UTF-8" in stock_csv_parse(data="sku\nMÜG".encode("latin-1")).errors[0]


def test_export_then_import_changes_nothing(shop):
    exported = "".join(stock_csv_export())
    assert exported.splitlines()[1] == "MUG-1,main,5,,0,0,0"
    plan = stock_csv_parse(data=exported.encode())
    assert stock_csv_import(plan=plan) == {"counted": 0, "unchanged": 1}


def test_the_commands(shop, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "MUG-1,main,9,,,,\n")
    call_command("import_stock", str(good), "--dry-run")
    assert StockLevel.objects.get(variant=shop[1]).on_hand == 5
    call_command("import_stock", str(good))
    assert StockLevel.objects.get(variant=shop[1]).on_hand == 9
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "NOPE,main,1,,,,\n")
    with pytest.raises(CommandError, match="1 errors; nothing was imported"):
        call_command("import_stock", str(bad))
    assert "line 2: no variant has the SKU 'NOPE'." in capsys.readouterr().err
    out = tmp_path / "out.csv"
    call_command("export_stock", "--output", str(out))
    assert "MUG-1,main,9" in out.read_text()


def test_dashboard_import_and_export(client, roles, staff_login, shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import StaffFactory

    staff_login(StaffFactory(role="Warehouse"))
    bad = SimpleUploadedFile("s.csv", (HEADER + "NOPE,main,1,,,,\n").encode(), "text/csv")
    response = client.post("/dashboard/inventory/stock/import/", {"file": bad})
    assert response.status_code == 400
    assert "line 2: no variant has the SKU" in response.text
    good = SimpleUploadedFile("s.csv", (HEADER + "MUG-1,main,8,,,,\n").encode(), "text/csv")
    response = client.post("/dashboard/inventory/stock/import/", {"file": good})
    assert response["Location"] == "/dashboard/inventory/stock/"
    assert StockLevel.objects.get(variant=shop[1]).on_hand == 8
    export = client.get("/dashboard/inventory/stock/export.csv")
    assert "MUG-1,main,8" in b"".join(export.streaming_content).decode()


def test_an_inactive_warehouse_is_not_a_place_to_count(shop):
    main, _, _ = shop
    main.is_active = False
    main.save()
    plan = stock_csv_parse(data=(HEADER + "MUG-1,main,3,,,,\n").encode())
    assert plan.errors == ["line 2: no warehouse has the code 'main'."]


def test_export_defuses_formulas_in_text_and_import_reads_them_back(db):
    from inventory.stock_csv import stock_csv_export, stock_csv_parse
    from tests.factories import VariantFactory
    from tests.factories.inventory import WarehouseFactory, stock

    variant = VariantFactory(sku="=HYPERLINK(1)")
    level = stock(variant, WarehouseFactory(code="main"), 3)
    level.bin_location = "+A-1"
    level.save()
    exported = "".join(stock_csv_export())
    assert "'=HYPERLINK(1)" in exported
    assert "'+A-1" in exported
    plan = stock_csv_parse(data=exported.encode())
    assert plan.errors == []
