"""Thin Celery tasks for analytics."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from analytics.services import kpis_roll_up_due


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def kpis_rollup_task() -> int:
    """02:00 store time: roll up yesterday and any missing day. Safe to run twice: each day
    is rewritten whole in one transaction, under its claim row's lock."""
    return len(kpis_roll_up_due())
