"""Project package: settings, URLs, the Celery app and cross-cutting helpers. No models."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
