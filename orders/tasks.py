"""Thin Celery tasks for orders."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from orders.disputes import dispute_email_send
from orders.emails import order_email_send
from orders.webhooks import webhook_event_apply, webhook_events_apply_pending


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def order_email_task(order_id: int, key: str) -> bool:
    # The service claims the email first: a redelivered message sends nothing twice.
    return order_email_send(order_id=order_id, key=key)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def webhook_event_apply_task(event_id: int) -> None:
    # The service locks the stored event and skips it once processed: redelivery is harmless.
    webhook_event_apply(event_id=event_id)


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def dispute_email_task(dispute_id: int) -> bool:
    # Claimed per dispute before sending, like the order emails.
    return dispute_email_send(dispute_id=dispute_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def webhook_events_sweep_task() -> int:
    # The beat job behind lost webhook tasks; applying an event twice changes nothing.
    return webhook_events_apply_pending()
