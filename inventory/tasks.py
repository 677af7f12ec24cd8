"""Thin Celery tasks for stock."""

from __future__ import annotations

from smtplib import SMTPException

from celery import Task, shared_task
from django.db import OperationalError

from inventory.alerts import stock_alerts_check, stock_alerts_notify
from inventory.channels import DeliveryFailed, webhook_deliver, webhook_give_up, webhooks_queue
from inventory.purchasing import purchase_order_email
from inventory.services import availability_push, reservations_release_expired


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def reservations_release_task() -> int:
    # Deleting what has expired is the same work however often it runs.
    return reservations_release_expired()


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def stock_alerts_task() -> tuple[int, int, int]:
    """The beat job: open and close alerts for all stock, then one digest of new ones."""
    opened, resolved = stock_alerts_check()
    return opened, resolved, stock_alerts_notify()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def stock_alerts_check_task(variant_ids: list[int]) -> tuple[int, int]:
    """Right after a stock change: alerts for these variants only (the digest waits for beat)."""
    return stock_alerts_check(variant_ids=variant_ids)


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def purchase_order_email_task(order_id: int) -> bool:
    # A retried delivery sends the order again; suppliers match orders by number.
    return purchase_order_email(order_id=order_id)


class _WebhookTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Out of retries: the delivery log says so.
        webhook_give_up(delivery_id=args[0])


@shared_task(
    base=_WebhookTask,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def webhook_deliver_task(delivery_id: int) -> bool:
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def webhooks_queue_task(self, variant_ids: list[int]) -> int:
    # The task id keys the events: a redelivered message queues nothing new.
    return len(webhooks_queue(variant_ids=variant_ids, event_key=self.request.id or ""))


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def availability_push_task(variant_ids: list[int]) -> int:
    # Writes only flags that differ, so a repeat changes nothing.
    return availability_push(variant_ids=variant_ids)
