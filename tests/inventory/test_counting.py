from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Category
from catalog.services import category_save
from inventory.counting import (
    cycle_count_accuracy,
    cycle_count_approve,
    cycle_count_record,
    cycle_count_start,
)
from inventory.models import CycleCount, StockLevel, StockMovement
from inventory.services import InventoryError, stock_allocate, stock_ship
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    main = WarehouseFactory(code="main")
    mug = VariantFactory(sku="MUG-1", barcode="4006381333931", cost=Decimal("4.00"))
    pan = VariantFactory(sku="PAN-1", cost=Decimal("20.00"))
    stock(mug, main, 10)
    stock(pan, main, 5)
    StockLevel.objects.filter(variant=mug).update(bin_location="A-01")
    StockLevel.objects.filter(variant=pan).update(bin_location="B-07")
    return main, mug, pan


def test_scans_add_one_each_and_typed_quantities_set(shelf):
    main, mug, _ = shelf
    count = cycle_count_start(warehouse=main)
    for _ in range(3):
        cycle_count_record(count=count, code="4006381333931")  # the barcode
    assert count.lines.get(stock__variant=mug).counted == 3
    cycle_count_record(count=count, code="mug-1", quantity=9)
    assert count.lines.get(stock__variant=mug).counted == 9


def test_approval_writes_only_the_differences_and_keeps_sales_made_meanwhile(shelf):
    main, mug, _pan = shelf
    count = cycle_count_start(warehouse=main)
    cycle_count_record(count=count, code="MUG-1", quantity=8)  # 2 missing
    cycle_count_record(count=count, code="PAN-1", quantity=5)  # right
    stock_allocate(reference="order:1", lines={mug.pk: 1})  # a sale while counting
    stock_ship(reference="order:1")
    assert cycle_count_approve(count=count) == 1
    assert StockLevel.objects.get(variant=mug).on_hand == 7  # 10 - 1 sold - 2 missing
    move = StockMovement.objects.get(reason="count")
    assert (move.delta, move.reference) == (-2, f"count:{count.pk}")
    count.refresh_from_db()
    assert count.status == CycleCount.Status.APPROVED
    assert cycle_count_accuracy(count=count) == 0.5
    with pytest.raises(InventoryError, match="already closed"):
        cycle_count_approve(count=count)


def test_a_count_can_be_limited_to_a_category_or_bins(shelf):
    main, mug, pan = shelf
    kitchen = category_save(category=Category(name="Kitchen", slug="kitchen"))
    mug.product.category = kitchen
    mug.product.save()
    assert [
        line.stock.variant
        for line in cycle_count_start(warehouse=main, category=kitchen).lines.all()
    ] == [mug]
    assert [
        line.stock.variant
        for line in cycle_count_start(warehouse=main, bin_from="B-00").lines.all()
    ] == [pan]
    with pytest.raises(InventoryError, match="Nothing is stocked"):
        cycle_count_start(warehouse=main, bin_from="Z-00")


def test_unknown_codes_are_refused(shelf):
    main, *_ = shelf
    count = cycle_count_start(warehouse=main)
    with pytest.raises(InventoryError, match="NOPE is not part of this count"):
        cycle_count_record(count=count, code="NOPE")


def test_the_count_pages_scan_with_htmx_and_approve(client, roles, staff_login, shelf):
    main, mug, _ = shelf
    staff_login(StaffFactory(role="Warehouse"))
    response = client.post("/dashboard/inventory/counts/", {"warehouse": main.pk})
    count = CycleCount.objects.get()
    assert response["Location"] == f"/dashboard/inventory/counts/{count.pk}/"
    partial = client.post(
        f"/dashboard/inventory/counts/{count.pk}/scan/",
        {"code": "MUG-1", "quantity": "7"},
        headers={"HX-Request": "true"},
    )
    assert partial.text.lstrip().startswith('<div id="count-work">')
    assert "MUG-1: 7 counted." in partial.text
    assert "-€12.00" in partial.text  # 3 missing at a cost of 4.00
    bad = client.post(f"/dashboard/inventory/counts/{count.pk}/scan/", {"code": "NOPE"})
    assert bad.status_code == 400
    assert "NOPE is not part of this count" in bad.text
    client.post(f"/dashboard/inventory/counts/{count.pk}/approve/")
    assert StockLevel.objects.get(variant=mug).on_hand == 7


def test_roles_without_counting_get_403(client, roles, staff_login, shelf):
    staff_login(StaffFactory(role="Support"))
    assert client.get("/dashboard/inventory/counts/").status_code == 403


def test_a_sale_before_the_shelf_is_counted_is_not_counted_twice(shelf):
    main, mug, _ = shelf
    count = cycle_count_start(warehouse=main)  # books: 10
    stock_allocate(reference="order:1", lines={mug.pk: 3})
    stock_ship(reference="order:1")  # 7 left, before anyone reached the shelf
    cycle_count_record(count=count, code="MUG-1", quantity=7)  # the shelf agrees
    assert cycle_count_approve(count=count) == 0
    assert StockLevel.objects.get(variant=mug).on_hand == 7
    assert cycle_count_accuracy(count=count) == 1.0


def test_approving_a_count_needs_the_right_to_change_stock(client, roles, staff_login, shelf):
    from django.contrib.auth.models import Permission

    main, mug, _ = shelf
    count = cycle_count_start(warehouse=main)
    cycle_count_record(count=count, code="MUG-1", quantity=7)
    counter = StaffFactory()
    counter.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="inventory",
            codename__in=["access_inventory", "view_cyclecount", "change_cyclecount"],
        ),
        Permission.objects.get(codename="access_dashboard"),
    )
    staff_login(counter)
    assert client.get(f"/dashboard/inventory/counts/{count.pk}/").status_code == 200
    response = client.post(f"/dashboard/inventory/counts/{count.pk}/approve/")
    assert response.status_code == 403
    assert StockLevel.objects.get(variant=mug).on_hand == 10
    count.refresh_from_db()
    assert count.status == CycleCount.Status.OPEN


def test_the_value_of_a_difference_is_in_the_products_currency(client, roles, staff_login):
    main = WarehouseFactory()
    tea = VariantFactory(sku="TEA-1", currency="USD", cost=Decimal("2.50"))
    stock(tea, main, 4)
    count = cycle_count_start(warehouse=main)
    cycle_count_record(count=count, code="TEA-1", quantity=2)
    staff_login(StaffFactory(role="Warehouse"))
    page = client.get(f"/dashboard/inventory/counts/{count.pk}/").text
    assert "-$5.00" in page
    assert "€" not in page.split("<tbody>")[1].split("</tbody>")[0]
