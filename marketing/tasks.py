"""Thin Celery tasks for marketing."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from marketing.abandonment import abandonment_email_send, abandonment_send_due


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def abandonment_send_due_task() -> int:
    """The beat job (every 15 minutes): claim due steps, one send task per claim."""
    return len(abandonment_send_due())


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def abandonment_email_task(claim_id: int) -> bool:
    # The claim row decides: a redelivered message or a second sender sends nothing twice.
    return abandonment_email_send(claim_id=claim_id)
