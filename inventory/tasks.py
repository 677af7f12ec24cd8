"""Thin Celery tasks for stock."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from inventory.services import reservations_release_expired


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def reservations_release_task() -> int:
    # Deleting what has expired is the same work however often it runs.
    return reservations_release_expired()
