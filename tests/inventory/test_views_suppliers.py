from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Supplier, SupplierItem
from tests.factories import StaffFactory, VariantFactory

pytestmark = pytest.mark.django_db
LIST = "/dashboard/inventory/suppliers/"


@pytest.fixture
def manager(client, roles, staff_login):
    return staff_login(StaffFactory(role="Manager"))


def test_create_a_supplier_then_add_items(manager):
    response = manager.post(
        f"{LIST}new/",
        {
            "name": "Forge & Field",
            "email": "orders@forge.example",
            "lead_time_days": "10",
            "minimum_order": "100",
            "currency": "eur",
            "is_active": "on",
        },
    )
    supplier = Supplier.objects.get()
    assert response["Location"] == f"{LIST}{supplier.pk}/"
    assert supplier.currency == "EUR"
    variant = VariantFactory(sku="PAN-1")
    manager.post(
        f"{LIST}{supplier.pk}/",
        {
            "item-sku": "pan-1",
            "item-supplier_sku": "FF-9",
            "item-unit_cost": "16.5",
            "item-preferred": "on",
        },
    )
    item = SupplierItem.objects.get()
    assert (item.variant, item.unit_cost, item.is_preferred) == (variant, Decimal("16.50"), True)
    assert "PAN-1" in manager.get(LIST + f"{supplier.pk}/").text


def test_a_new_preferred_supplier_takes_the_place_of_the_old(manager):
    variant = VariantFactory(sku="PAN-1")
    old = Supplier.objects.create(name="Old")
    new = Supplier.objects.create(name="New")
    SupplierItem.objects.create(supplier=old, variant=variant, unit_cost=1, is_preferred=True)
    manager.post(
        f"{LIST}{new.pk}/", {"item-sku": "PAN-1", "item-unit_cost": "2", "item-preferred": "on"}
    )
    assert SupplierItem.objects.get(is_preferred=True).supplier == new


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"item-sku": "NOPE", "item-unit_cost": "2"}, "No variant has the SKU"),
        ({"item-sku": "PAN-1", "item-unit_cost": "-2"}, "greater than or equal to 0"),
    ],
)
def test_bad_items_are_explained_and_change_nothing(manager, data, message):
    VariantFactory(sku="PAN-1")
    supplier = Supplier.objects.create(name="Forge")
    response = manager.post(f"{LIST}{supplier.pk}/", data)
    assert response.status_code == 400
    assert message in response.text
    assert not SupplierItem.objects.exists()


def test_a_bad_currency_is_refused_beside_the_field(manager):
    response = manager.post(
        f"{LIST}new/", {"name": "X", "lead_time_days": "5", "minimum_order": "0", "currency": "E1"}
    )
    assert "Use a 3-letter currency code" in response.text
    assert not Supplier.objects.exists()


def test_roles_without_supplier_rights(client, roles, staff_login):
    supplier = Supplier.objects.create(name="Forge")
    staff_login(StaffFactory(role="Support"))
    assert client.get(LIST).status_code == 403
    assert client.post(f"{LIST}{supplier.pk}/", {"name": "Hacked"}).status_code == 403
    supplier.refresh_from_db()
    assert supplier.name == "Forge"
