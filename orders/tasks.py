"""Thin Celery tasks for orders."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from orders.emails import order_email_send


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def order_email_task(order_id: int, key: str) -> bool:
    # The service claims the email first: a redelivered message sends nothing twice.
    return order_email_send(order_id=order_id, key=key)
