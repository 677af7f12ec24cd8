"""Thin Celery tasks for fulfillment."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from fulfillment.emails import fulfillment_email_send
from fulfillment.services import shipment_delays_notify


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def fulfillment_email_task(key: str) -> bool:
    # The service claims the email first: a redelivered message sends nothing twice.
    return fulfillment_email_send(key=key)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def shipment_delays_notify_task() -> int:
    return shipment_delays_notify()
