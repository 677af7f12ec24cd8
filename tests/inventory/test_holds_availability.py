"""Cart holds move the in-stock flag and tell the channels, but only when they cross zero."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.channels import channel_create
from inventory.models import Reservation, WebhookDelivery
from inventory.services import (
    availability_push,
    reservations_release_expired,
    stock_release,
    stock_reserve,
)
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_left():
    variant = VariantFactory()
    stock(variant, WarehouseFactory(), 2)
    availability_push(variant_ids=[variant.pk])
    return variant


def flags(variant) -> tuple[bool, bool]:
    variant.refresh_from_db()
    variant.product.refresh_from_db()
    return variant.in_stock, variant.product.in_stock


def test_a_hold_on_the_last_units_sells_out_after_commit_and_its_release_restocks(
    two_left, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        stock_reserve(variant_id=two_left.pk, quantity=2, cart_key="cart-1")
    assert flags(two_left) == (True, True)  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert flags(two_left) == (False, False)
    with django_capture_on_commit_callbacks(execute=True):
        stock_release(cart_key="cart-1")
    assert flags(two_left) == (True, True)


def test_holds_that_do_not_cross_zero_enqueue_nothing(two_left, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        stock_reserve(variant_id=two_left.pk, quantity=1, cart_key="cart-1")
        stock_reserve(variant_id=two_left.pk, quantity=1, cart_key="cart-2")  # takes the last
        stock_reserve(variant_id=two_left.pk, quantity=1, cart_key="cart-2")  # the same again
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        stock_release(cart_key="nobody")
        stock_reserve(variant_id=two_left.pk, quantity=0, cart_key="cart-3")
    assert callbacks == []


def test_dropping_a_hold_to_zero_quantity_restocks(two_left, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(variant_id=two_left.pk, quantity=2, cart_key="cart-1")
    assert flags(two_left) == (False, False)
    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(variant_id=two_left.pk, quantity=0, cart_key="cart-1")
    assert flags(two_left) == (True, True)


def test_a_swept_expired_hold_restocks_and_one_that_changes_nothing_stays_quiet(
    two_left, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(variant_id=two_left.pk, quantity=2, cart_key="cart-1")
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert reservations_release_expired() == 1
    assert callbacks
    assert flags(two_left) == (True, True)

    stock_reserve(variant_id=two_left.pk, quantity=1, cart_key="cart-2")
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks() as callbacks:
        assert reservations_release_expired() == 1
    assert callbacks == []


def test_channels_hear_of_a_hold_that_sells_out(
    two_left, django_capture_on_commit_callbacks, monkeypatch
):
    from inventory.tasks import webhook_deliver_task

    channel_create(name="POS", webhook_url="https://pos.example/hook")
    sent = []
    monkeypatch.setattr(webhook_deliver_task, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(variant_id=two_left.pk, quantity=1, cart_key="cart-1")
    assert not WebhookDelivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(variant_id=two_left.pk, quantity=1, cart_key="cart-2")
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["items"] == [{"sku": two_left.sku, "available": 0}]
    assert sent == [delivery.pk]
