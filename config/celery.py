"""The Celery app. Settings come from Django's settings, every key prefixed CELERY_."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("store")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_local_folders(sender: Celery, **kwargs: object) -> None:
    # Beat's schedule file and the filesystem transport's queues live under VAR_DIR, which
    # a fresh checkout does not have; neither creates its folder itself.
    folders = [Path(sender.conf.beat_schedule_filename).parent]
    if sender.conf.broker_url.startswith("filesystem://"):
        options = sender.conf.broker_transport_options
        folders += [Path(options[key]) for key in ("data_folder_in", "control_folder")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
