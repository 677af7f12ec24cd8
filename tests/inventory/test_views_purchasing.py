from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from inventory.alerts import stock_alerts_check
from inventory.models import PurchaseOrder, StockAlert, StockLevel, Supplier, SupplierItem
from inventory.purchasing import purchase_order_create
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db
Status = PurchaseOrder.Status


@pytest.fixture
def warehouse_staff(client, roles, staff_login):
    return staff_login(StaffFactory(role="Warehouse"))


@pytest.fixture
def order():
    supplier = Supplier.objects.create(
        name="Forge & Field", email="orders@forge.example", contact_name="Ana", lead_time_days=7
    )
    variant = VariantFactory(sku="PAN-1")
    SupplierItem.objects.create(
        supplier=supplier, variant=variant, unit_cost=Decimal("16.00"), is_preferred=True
    )
    return purchase_order_create(
        supplier=supplier, warehouse=WarehouseFactory(code="main"), lines={variant.pk: 10}
    )


def url(order, suffix=""):
    return f"/dashboard/inventory/purchase-orders/{order.pk}/{suffix}"


def test_send_emails_the_supplier_and_records_the_timeline(
    warehouse_staff, order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = warehouse_staff.post(url(order, "action/"), {"action": "send"})
    assert response["Location"] == url(order)
    order.refresh_from_db()
    assert order.status == Status.SENT
    [message] = mail.outbox
    assert message.to == ["orders@forge.example"]
    assert order.number in message.subject
    assert "PAN-1" in message.body
    assert "PAN-1" in message.alternatives[0].content
    page = warehouse_staff.get(url(order)).text
    assert "Sent" in page
    assert "Printable view" in page


def test_the_printable_view_stands_alone(warehouse_staff, order):
    page = warehouse_staff.get(url(order), {"print": "1"}).text
    assert f"Purchase order {order.number}" in page
    assert 'class="staff-nav"' not in page


def test_receiving_raises_stock_and_over_receipt_asks_first(warehouse_staff, order):
    order.status = Status.SENT
    order.save()
    line = order.lines.get()
    response = warehouse_staff.post(
        url(order, "action/"), {"action": "receive", f"receive-{line.pk}": "12"}
    )
    assert response.status_code == 409
    assert "Confirm to receive it anyway" in response.text
    assert 'value="12"' in response.text
    assert not StockLevel.objects.filter(on_hand__gt=0).exists()
    warehouse_staff.post(
        url(order, "action/"),
        {"action": "receive", f"receive-{line.pk}": "12", "confirm_over": "1"},
    )
    assert StockLevel.objects.get().on_hand == 12
    order.refresh_from_db()
    assert order.status == Status.RECEIVED


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "is not a number"), ("²", "is not a number"), ("", "how many units")],
)
def test_bad_receiving_input_is_explained(warehouse_staff, order, value, message):
    order.status = Status.SENT
    order.save()
    response = warehouse_staff.post(
        url(order, "action/"),
        {"action": "receive", f"receive-{order.lines.get().pk}": value},
        follow=True,
    )
    assert message in response.text
    assert not StockLevel.objects.filter(on_hand__gt=0).exists()


def test_reorder_from_alerts_drafts_one_order_per_supplier(warehouse_staff, order):
    variant = order.lines.get().variant
    level = stock(variant, order.warehouse, 1)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=5, reorder_quantity=20)
    stock_alerts_check()
    alert = StockAlert.objects.get()
    response = warehouse_staff.post("/dashboard/inventory/alerts/reorder/", {"alerts": [alert.pk]})
    assert response["Location"] == "/dashboard/inventory/purchase-orders/"
    draft = PurchaseOrder.objects.exclude(pk=order.pk).get()
    assert draft.status == Status.DRAFT
    assert draft.lines.get().quantity_ordered == 20


def test_roles_without_purchasing_get_403(client, roles, staff_login, order):
    staff_login(StaffFactory(role="Support"))
    assert client.get(url(order)).status_code == 403
    assert client.post(url(order, "action/"), {"action": "cancel"}).status_code == 403
    order.refresh_from_db()
    assert order.status == Status.DRAFT


def test_the_list_filters_by_status(warehouse_staff, order):
    page = warehouse_staff.get("/dashboard/inventory/purchase-orders/", {"status": "draft"}).text
    assert order.number in page
    page = warehouse_staff.get("/dashboard/inventory/purchase-orders/", {"status": "received"}).text
    assert order.number not in page


def test_pressing_reorder_twice_drafts_one_order(warehouse_staff, order):
    variant = order.lines.get().variant
    level = stock(variant, order.warehouse, 1)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=5, reorder_quantity=20)
    stock_alerts_check()
    alert = StockAlert.objects.get()
    for _ in range(2):
        response = warehouse_staff.post(
            "/dashboard/inventory/alerts/reorder/", {"alerts": [alert.pk]}, follow=True
        )
    assert "Already on an open purchase order, not ordered again: 1." in response.text
    draft = PurchaseOrder.objects.exclude(pk=order.pk).get()
    assert draft.lines.get().quantity_ordered == 20
    assert f"on {draft.number}" in warehouse_staff.get("/dashboard/inventory/alerts/").text


def test_odd_alert_ids_are_ignored_not_a_server_error(warehouse_staff, order):
    response = warehouse_staff.post("/dashboard/inventory/alerts/reorder/", {"alerts": ["²"]})
    assert response.status_code == 302
    assert PurchaseOrder.objects.count() == 1
