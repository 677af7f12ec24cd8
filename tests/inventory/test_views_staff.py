from __future__ import annotations

import pytest

from inventory.alerts import stock_alerts_check
from inventory.models import StockLevel, StockMovement
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db
STOCK = "/dashboard/inventory/stock/"


@pytest.fixture
def warehouse_staff(client, roles, staff_login):
    return staff_login(StaffFactory(role="Warehouse"))


@pytest.fixture
def main():
    return WarehouseFactory(code="main", name="Main warehouse")


@pytest.mark.parametrize("rows", [3, 30])
def test_stock_list_full_page_htmx_rows_and_bounded_queries(
    warehouse_staff, main, django_assert_max_num_queries, rows
):
    for index in range(rows):
        stock(VariantFactory(sku=f"SKU-{index:03d}"), main, 5)
    with django_assert_max_num_queries(9):
        page = warehouse_staff.get(STOCK)
    assert "SKU-000" in page.text
    partial = warehouse_staff.get(STOCK, {"q": "SKU-002"}, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="stock-rows">')
    assert "SKU-002" in partial.text
    assert "SKU-001" not in partial.text


def test_stock_list_filters_low_and_out(warehouse_staff, main):
    out, low, plenty = (
        VariantFactory(sku="OUT-1"),
        VariantFactory(sku="LOW-1"),
        VariantFactory(sku="OK-1"),
    )
    for variant, quantity in ((out, 0), (low, 2), (plenty, 50)):
        StockLevel.objects.get_or_create(variant=variant, warehouse=main)
        if quantity:
            stock(variant, main, quantity)
    StockLevel.objects.update(reorder_point=5)
    page = warehouse_staff.get(STOCK, {"state": "low"}).text
    assert "LOW-1" in page
    assert "OUT-1" not in page
    assert "OK-1" not in page
    assert "OUT-1" in warehouse_staff.get(STOCK, {"state": "out"}).text


def test_recording_a_change_writes_the_ledger_and_shows_it(warehouse_staff, main):
    variant = VariantFactory(sku="MUG-1")
    url = f"/dashboard/inventory/variants/{variant.pk}/"
    response = warehouse_staff.post(
        url,
        {
            "adjust-warehouse": main.pk,
            "adjust-delta": "12",
            "adjust-reason": "receipt",
            "adjust-note": "",
        },
    )
    assert response["Location"] == url
    page = warehouse_staff.get(url).text
    assert "+12" in page
    assert "Receipt" in page
    assert StockMovement.objects.get().actor.role_names == ["Warehouse"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"adjust-delta": "0", "adjust-reason": "receipt"}, "Enter a change other than 0."),
        ({"adjust-delta": "-1", "adjust-reason": "adjustment"}, "an adjustment needs a note"),
        ({"adjust-delta": "-9", "adjust-reason": "damage", "adjust-note": "wet"}, "cannot lose 9"),
        ({"adjust-delta": "abc", "adjust-reason": "receipt"}, "Enter a whole number."),
    ],
)
def test_bad_changes_are_explained_and_change_nothing(warehouse_staff, main, data, message):
    variant = VariantFactory()
    stock(variant, main, 3)
    response = warehouse_staff.post(
        f"/dashboard/inventory/variants/{variant.pk}/", {"adjust-warehouse": main.pk, **data}
    )
    assert response.status_code == 400
    assert message in response.text
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().on_hand == 3


def test_a_transfer_needs_two_warehouses(warehouse_staff, main):
    variant = VariantFactory()
    stock(variant, main, 3)
    response = warehouse_staff.post(
        f"/dashboard/inventory/variants/{variant.pk}/",
        {"transfer-source": main.pk, "transfer-target": main.pk, "transfer-quantity": "1"},
    )
    assert "Choose a different warehouse." in response.text
    east = WarehouseFactory(code="east")
    warehouse_staff.post(
        f"/dashboard/inventory/variants/{variant.pk}/",
        {"transfer-source": main.pk, "transfer-target": east.pk, "transfer-quantity": "2"},
    )
    assert StockLevel.objects.get(warehouse=east).on_hand == 2


def test_roles_without_inventory_cannot_see_or_change_stock(client, roles, staff_login, main):
    variant = VariantFactory()
    staff_login(StaffFactory(role="Support"))
    assert client.get(STOCK).status_code == 403
    client.logout()
    staff_login(StaffFactory(role="Marketing"))
    response = client.post(
        f"/dashboard/inventory/variants/{variant.pk}/",
        {"adjust-warehouse": main.pk, "adjust-delta": "5", "adjust-reason": "receipt"},
    )
    assert response.status_code == 403
    assert not StockMovement.objects.exists()


def test_unknown_variant_is_404(warehouse_staff):
    assert warehouse_staff.get("/dashboard/inventory/variants/999999/").status_code == 404


def test_alerts_page_lists_open_alerts_with_the_suggestion(warehouse_staff, main):
    variant = VariantFactory(sku="LOW-9")
    level = stock(variant, main, 2)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=5, reorder_quantity=20)
    stock_alerts_check()
    page = warehouse_staff.get("/dashboard/inventory/alerts/").text
    assert "LOW-9" in page
    assert "<strong>20</strong>" in page


def test_on_hand_history_walks_back_from_today(main):
    from inventory.selectors import on_hand_history
    from inventory.services import stock_adjust

    variant = VariantFactory()
    stock(variant, main, 5)
    stock_adjust(variant_id=variant.pk, warehouse=main, delta=-2, reason="damage", note="x")
    stock_adjust(variant_id=variant.pk, warehouse=main, delta=4, reason="receipt")
    assert on_hand_history(variant_id=variant.pk) == [0, 5, 3, 7]


def test_the_variant_page_draws_the_chart(warehouse_staff, main):
    from inventory.services import stock_adjust

    variant = VariantFactory()
    stock(variant, main, 5)
    stock_adjust(variant_id=variant.pk, warehouse=main, delta=3, reason="receipt")
    page = warehouse_staff.get(f"/dashboard/inventory/variants/{variant.pk}/").text
    assert "<polyline points=" in page
    assert "lowest 0, highest 8" in page


def test_bulk_adjustment_changes_every_ticked_row_or_none(warehouse_staff, main):
    mug, pan = VariantFactory(sku="MUG-1"), VariantFactory(sku="PAN-1")
    mug_level, pan_level = stock(mug, main, 5), stock(pan, main, 1)
    data = {"stock": [mug_level.pk, pan_level.pk], "reason": "damage", "note": "flood"}
    response = warehouse_staff.post(
        "/dashboard/inventory/stock/bulk/", data | {"delta": "-2"}, follow=True
    )
    assert "Nothing was changed. PAN-1 at main" in response.text
    assert StockLevel.objects.get(pk=mug_level.pk).on_hand == 5  # rolled back with PAN-1
    warehouse_staff.post(
        "/dashboard/inventory/stock/bulk/", data | {"delta": "3", "reason": "receipt"}
    )
    assert sorted(StockLevel.objects.values_list("on_hand", flat=True)) == [4, 8]


def test_bulk_adjustment_without_rows_is_explained(warehouse_staff, main):
    response = warehouse_staff.post(
        "/dashboard/inventory/stock/bulk/", {"delta": "1", "reason": "receipt"}, follow=True
    )
    assert "Tick the rows to change." in response.text
