"""GET /healthz: is this instance able to serve? For load balancers and docker-compose."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from config.tasks import HEARTBEAT_CACHE_KEY


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)


def _broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
        if conn.transport_cls == "filesystem":
            folder = celery_app.conf.broker_transport_options["data_folder_out"]
            if not os.access(folder, os.W_OK):
                raise RuntimeError("broker folder is not writable")


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache, "broker": _broker}


def _run(check: Callable[[], None]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        check()
    except Exception as err:
        return {"ok": False, "error": type(err).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = {name: _run(check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in results.values())
    try:
        heartbeat = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        heartbeat = None
    # Workers are reported, not required: the storefront keeps selling while they restart.
    payload = {
        "status": "ok" if healthy else "unavailable",
        "checks": results,
        "workers": {"last_heartbeat": heartbeat},
    }
    return JsonResponse(payload, status=200 if healthy else 503)
