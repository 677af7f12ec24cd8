"""Thin Celery tasks: load by id, call one service, decide on retry."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from catalog.images import product_image_renditions_make
from catalog.imports import product_import_run
from catalog.search import search_words_refresh


# OSError covers a storage hiccup (a full or briefly unmounted disk, a network
# filesystem timing out); OperationalError a database that went away. Both pass.
@shared_task(autoretry_for=(OSError, OperationalError), retry_backoff=True, max_retries=5)
def product_image_renditions_task(image_id: int) -> dict[str, str]:
    # The service skips work already done and returns {} for a deleted image, so a
    # redelivered or retried message changes nothing.
    return product_image_renditions_make(image_id=image_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def product_import_task(import_id: int) -> None:
    # The service claims the import first, so a redelivered message changes nothing.
    product_import_run(import_id=import_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def search_words_refresh_task() -> None:
    # A refresh rebuilds the whole view, so running it twice is harmless.
    search_words_refresh()
