"""Redelivered webhooks racing each other on PostgreSQL still have one effect.

Stripe retries a delivery it thinks failed, and Celery redelivers a task whose worker
died, so the same event can be stored and applied by several processes at once. Real
threads, each with its own connection, released together by a barrier. The negative
control removes the row locks and must see the event applied more than once, which
proves the harness can see a race at all.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import DatabaseError, connection
from django.db.models.query import QuerySet
from django.test import Client

from orders.models import Order, OrderEvent, WebhookEvent
from orders.services import IllegalTransition
from orders.webhooks import webhook_event_apply
from tests.fakes import stripe_events as ev
from tests.fakes.stripe_orders import stripe_order_fixture  # noqa: F401
from tests.fakes.stripe_server import stripe_fake_fixture  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 10


def together(work) -> list:
    barrier = threading.Barrier(WORKERS)

    def run(index: int):
        try:
            barrier.wait(timeout=60)
            return work(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(run, range(WORKERS)))


def _stored(payload: dict) -> WebhookEvent:
    # Stored without the task (in autocommit it would run at once): the racers apply it.
    return WebhookEvent.objects.create(
        event_id=payload["id"], type=payload["type"], payload=payload
    )


def _succeeded(order: Order) -> int:
    return order.events.filter(kind=OrderEvent.Kind.PAYMENT, message__contains="succeeded").count()


@pytest.mark.parametrize("round_", range(3))  # several times in one run: races are chancy
def test_the_same_event_delivered_concurrently_is_stored_and_applied_once(stripe_order, round_):
    payload = ev.event("payment_intent.succeeded", ev.intent(stripe_order.payments.get().reference))

    statuses = together(lambda _: ev.deliver(Client(), payload).status_code)

    assert statuses == [200] * WORKERS
    assert WebhookEvent.objects.get().processed_at is not None
    assert _succeeded(stripe_order) == 1
    stripe_order.refresh_from_db()
    assert stripe_order.paid_total == stripe_order.total


def test_a_stored_event_applied_by_racing_workers_has_one_effect(stripe_order):
    payload = ev.event("payment_intent.succeeded", ev.intent(stripe_order.payments.get().reference))
    row = _stored(payload)

    together(lambda _: webhook_event_apply(event_id=row.pk))

    assert _succeeded(stripe_order) == 1
    stripe_order.refresh_from_db()
    assert stripe_order.paid_total == stripe_order.total


def test_negative_control_without_row_locks_the_event_is_applied_twice(stripe_order, monkeypatch):
    payload = ev.event("payment_intent.succeeded", ev.intent(stripe_order.payments.get().reference))
    row = _stored(payload)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, **kwargs: self)

    def apply(_):
        try:
            webhook_event_apply(event_id=row.pk)
        except (IllegalTransition, DatabaseError):
            # A second worker tried to move the paid order to paid, or the database
            # caught the collision: the race happened.
            return "raced"
        return "applied"

    results = together(apply)

    # More than one worker got past "already processed?": duplicates, or a collision.
    assert _succeeded(stripe_order) + results.count("raced") > 1
