from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from inventory.alerts import stock_alerts_check, stock_alerts_notify
from inventory.models import StockAlert, StockLevel, StockMovement
from inventory.services import stock_adjust, stock_allocate, stock_ship
from inventory.tasks import stock_alerts_task
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def low(roles):
    """A variant with 10 on hand, reorder point 5, and staff who should hear about it."""
    variant = VariantFactory(sku="MUG-1")
    level = stock(variant, WarehouseFactory(code="main"), 10)
    StockLevel.objects.filter(pk=level.pk).update(
        reorder_point=5, safety_stock=2, reorder_quantity=20
    )
    StaffFactory(email="ines@example.com", role="Warehouse")
    StaffFactory(email="tom@example.com", role="Manager")
    StaffFactory(email="sam@example.com", role="Support")
    return variant


def sell(variant, quantity, reference):
    stock_allocate(reference=reference, lines={variant.pk: quantity})
    stock_ship(reference=reference)


def test_one_alert_per_crossing_not_per_sale(low):
    sell(low, 5, "order:1")
    sell(low, 1, "order:2")
    assert stock_alerts_check() == (1, 0)
    sell(low, 1, "order:3")
    assert stock_alerts_check() == (0, 0)
    assert StockAlert.objects.count() == 1


def test_an_alert_closes_when_stock_comes_back_and_reopens_on_the_next_crossing(low):
    sell(low, 6, "order:1")
    stock_alerts_check()
    stock_adjust(variant_id=low.pk, warehouse=low.stock.get().warehouse, delta=10, reason="receipt")
    assert stock_alerts_check() == (0, 1)
    sell(low, 10, "order:2")
    assert stock_alerts_check() == (1, 0)
    assert StockAlert.objects.filter(resolved_at__isnull=True).count() == 1
    assert StockAlert.objects.count() == 2


def test_a_stock_change_checks_alerts_right_after_commit(low, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sell(low, 6, "order:1")
    assert StockAlert.objects.filter(resolved_at__isnull=True).count() == 1


def test_the_digest_goes_once_to_warehouse_and_manager_staff(low):
    sell(low, 6, "order:1")
    stock_alerts_task()
    stock_alerts_task()  # redelivered, or the next run: nothing new to tell
    [digest] = mail.outbox
    assert sorted(digest.to) == ["ines@example.com", "tom@example.com"]
    assert digest.subject.startswith("1 product running low")
    assert "MUG-1" in digest.body
    assert "Suggested order" in digest.body


def test_a_failed_send_gives_the_alerts_back_for_the_retry(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    stock_alerts_check()

    def down(**kwargs):
        raise OSError("mail server unreachable")

    monkeypatch.setattr(alerts, "send_templated_email", down)
    with pytest.raises(OSError, match="unreachable"):
        stock_alerts_notify()
    monkeypatch.undo()
    assert stock_alerts_notify() == 1
    assert len(mail.outbox) == 1


def test_the_suggestion_is_demand_over_lead_time_plus_safety_minus_what_is_left(low, settings):
    settings.DEFAULT_LEAD_TIME_DAYS = 14
    sell(low, 7, "order:1")  # 7 sold in the last 4 weeks: 0.25 a day
    level = low.stock.get()
    StockMovement.objects.filter(stock=level, reason="sale").update(
        created_at=timezone.now() - timedelta(days=3)
    )
    stock_alerts_check()
    alert = StockAlert.objects.get()
    # 0.25 x 14 = 3.5, + safety 2, - 3 still free = 2.5 -> 3
    assert alert.suggested_quantity == 3
    assert alert.available_at_open == 3


def test_without_sales_history_the_reorder_quantity_is_suggested(low):
    stock_adjust(
        variant_id=low.pk, warehouse=low.stock.get().warehouse, delta=-6, reason="damage", note="x"
    )
    stock_alerts_check()
    assert StockAlert.objects.get().suggested_quantity == 20


def test_the_command(low, capsys):
    sell(low, 6, "order:1")
    call_command("stock_alerts")
    assert "1 opened, 0 resolved, 1 in the digest." in capsys.readouterr().out
