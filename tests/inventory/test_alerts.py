from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from inventory.alerts import (
    DIGEST_RESEND_AFTER,
    digest_message_id,
    stock_alerts_check,
    stock_alerts_notify,
)
from inventory.models import StockAlert, StockAlertDigest, StockLevel, StockMovement, Warehouse
from inventory.selectors import stock_list_for_staff, stock_with_free
from inventory.services import (
    stock_adjust,
    stock_allocate,
    stock_release,
    stock_reserve,
    stock_ship,
)
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


# --- Cart holds count, shared out by warehouse priority ---------------------------------------


def test_cart_holds_bring_stock_to_its_reorder_point(low):
    stock_reserve(variant_id=low.pk, quantity=6, cart_key="cart-1")
    assert stock_alerts_check() == (1, 0)
    assert StockAlert.objects.get().available_at_open == 4


def test_expired_holds_do_not_count_and_a_released_hold_closes_the_alert(low):
    stock_reserve(variant_id=low.pk, quantity=6, cart_key="old", ttl=timedelta(seconds=-1))
    assert stock_alerts_check() == (0, 0)
    stock_reserve(variant_id=low.pk, quantity=6, cart_key="cart-1")
    assert stock_alerts_check() == (1, 0)
    stock_release(cart_key="cart-1")
    assert stock_alerts_check() == (0, 1)


def test_holds_fall_on_warehouses_in_the_order_an_order_would_take_stock(roles):
    variant = VariantFactory()
    first = stock(variant, WarehouseFactory(code="first", priority=0), 10)
    second = stock(variant, WarehouseFactory(code="second", priority=1), 10)
    StockLevel.objects.filter(pk__in=[first.pk, second.pk]).update(reorder_point=3)
    stock_reserve(variant_id=variant.pk, quantity=8, cart_key="cart-1")
    stock_alerts_check()
    [alert] = StockAlert.objects.all()
    assert (alert.stock_id, alert.available_at_open) == (first.pk, 2)
    stock_reserve(variant_id=variant.pk, quantity=17, cart_key="cart-1")
    stock_alerts_check()
    free = {row.pk: row.free for row in stock_with_free().filter(variant=variant)}
    assert free == {first.pk: 0, second.pk: 3}
    assert StockAlert.objects.filter(resolved_at__isnull=True).count() == 2


def test_a_warehouse_filter_does_not_change_another_rows_share_of_the_holds():
    variant = VariantFactory()
    stock(variant, WarehouseFactory(priority=0), 5)
    second = stock(variant, WarehouseFactory(priority=1), 5)
    stock_reserve(variant_id=variant.pk, quantity=7, cart_key="cart-1")
    [row] = stock_list_for_staff(filters={"warehouse": second.warehouse})
    assert row.free == 3


def test_a_closed_warehouse_gets_no_alert_and_its_open_alert_closes(low):
    sell(low, 6, "order:1")
    assert stock_alerts_check() == (1, 0)
    Warehouse.objects.update(is_active=False)
    assert stock_alerts_check() == (0, 1)
    assert not StockAlert.objects.filter(resolved_at__isnull=True).exists()


def test_alerts_for_many_rows_take_a_fixed_number_of_queries(roles, django_assert_max_num_queries):
    warehouse = WarehouseFactory()
    for _ in range(15):
        level = stock(VariantFactory(), warehouse, 2)
        StockLevel.objects.filter(pk=level.pk).update(reorder_point=5)
    with django_assert_max_num_queries(12):
        assert stock_alerts_check() == (15, 0)


def test_no_alert_opens_for_stock_that_recovered_after_it_was_read(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    real = alerts._low_candidates

    def then_a_delivery_arrives(levels):
        candidates = real(levels)  # read while low
        stock_adjust(
            variant_id=low.pk, warehouse=low.stock.get().warehouse, delta=20, reason="receipt"
        )
        return candidates

    monkeypatch.setattr(alerts, "_low_candidates", then_a_delivery_arrives)
    assert stock_alerts_check() == (0, 0)
    assert not StockAlert.objects.exists()


# --- The digest is durable: claimed, sent, stamped; a dead worker's claim is sent later --------


class Killed(BaseException):
    """The worker dies: no `except Exception` runs."""


def _claim_goes_stale():
    StockAlertDigest.objects.update(
        claimed_at=timezone.now() - DIGEST_RESEND_AFTER - timedelta(seconds=1)
    )


def _killed(**kwargs):
    raise Killed


def test_a_digest_whose_worker_died_before_sending_is_sent_by_a_later_run(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    stock_alerts_check()
    monkeypatch.setattr(alerts, "send_templated_email", _killed)
    with pytest.raises(Killed):
        stock_alerts_notify()
    monkeypatch.undo()
    assert stock_alerts_notify() == 0  # a fresh claim may be a live worker still sending
    assert mail.outbox == []
    _claim_goes_stale()
    assert stock_alerts_notify() == 1
    digest = StockAlertDigest.objects.get()
    [message] = mail.outbox
    assert message.message()["Message-ID"] == digest_message_id(digest.run)
    assert digest.sent_at is not None
    assert digest.attempts == 1
    assert stock_alerts_notify() == 0  # sent is sent
    assert len(mail.outbox) == 1


def test_a_retried_digest_keeps_its_message_id(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    stock_alerts_check()
    tried = []

    def down(**kwargs):
        tried.append(kwargs["headers"]["Message-ID"])
        raise OSError("mail server unreachable")

    monkeypatch.setattr(alerts, "send_templated_email", down)
    with pytest.raises(OSError, match="unreachable"):
        stock_alerts_notify()
    monkeypatch.undo()
    assert stock_alerts_notify() == 1  # a failed send is retried at once, not after the timeout
    assert [m.message()["Message-ID"] for m in mail.outbox] == tried
    assert StockAlertDigest.objects.get().attempts == 2


def test_a_late_digest_leaves_out_alerts_resolved_meanwhile(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    stock_alerts_check()
    monkeypatch.setattr(alerts, "send_templated_email", _killed)
    with pytest.raises(Killed):
        stock_alerts_notify()
    monkeypatch.undo()
    stock_adjust(variant_id=low.pk, warehouse=low.stock.get().warehouse, delta=20, reason="receipt")
    stock_alerts_check()
    _claim_goes_stale()
    assert stock_alerts_notify() == 0
    assert mail.outbox == []
    assert StockAlertDigest.objects.get().sent_at is not None


def test_two_runs_that_find_the_same_unsent_digest_send_it_once(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    stock_alerts_check()
    monkeypatch.setattr(alerts, "send_templated_email", _killed)
    with pytest.raises(Killed):
        stock_alerts_notify()
    monkeypatch.undo()
    _claim_goes_stale()
    assert len(alerts._digests_left_unsent()) == 1
    assert alerts._digests_left_unsent() == []


def test_an_alert_closes_when_its_reorder_point_is_taken_away(low):
    sell(low, 10, "order:1")  # nothing left
    assert stock_alerts_check() == (1, 0)
    StockLevel.objects.update(reorder_point=0)
    assert stock_alerts_check() == (0, 1)


def test_no_alert_closes_for_stock_that_fell_again_after_it_was_read(low, monkeypatch):
    import inventory.alerts as alerts

    sell(low, 6, "order:1")
    stock_alerts_check()
    alert = StockAlert.objects.get()
    stock_adjust(variant_id=low.pk, warehouse=low.stock.get().warehouse, delta=10, reason="receipt")
    real = alerts._low_candidates

    def then_a_big_sale(levels):
        sell(low, 10, "order:2")  # after the recovery was read, before anything was written
        return real(levels)

    monkeypatch.setattr(alerts, "_low_candidates", then_a_big_sale)
    assert stock_alerts_check() == (0, 0)
    assert list(StockAlert.objects.filter(resolved_at__isnull=True)) == [alert]
