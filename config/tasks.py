"""Project-wide housekeeping tasks run by beat."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "celery:heartbeat"


@shared_task
def worker_heartbeat() -> str:
    """Record that beat scheduled, and a worker ran, a task just now; /healthz reads it."""
    stamp = timezone.now().isoformat()
    # Three missed beats and the key is gone: /healthz then reports the workers as silent.
    cache.set(HEARTBEAT_CACHE_KEY, stamp, timeout=settings.WORKER_HEARTBEAT_SECONDS * 3)
    return stamp


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def clear_expired_sessions() -> None:
    call_command("clearsessions")
