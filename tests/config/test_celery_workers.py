"""Real Celery workers and beat, as separate processes, on both brokers.

The embedded broker (kombu's filesystem transport) needs no server and always runs;
the Redis cases run where REDIS_URL is set (CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache
from django.utils import timezone

from config.tasks import HEARTBEAT_CACHE_KEY
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@contextmanager
def celery(*commands: list[str], env: dict[str, str]) -> Iterator[None]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *command, "-l", "warning"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def process_env(var_dir: Path, **extra: str) -> dict[str, str]:
    # A VAR_DIR that does not exist yet, as on a fresh checkout: the processes must make it.
    assert not var_dir.exists()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return {**env, "VAR_DIR": str(var_dir), "WORKER_HEARTBEAT_SECONDS": "1", **extra}


def test_embedded_broker_worker_and_beat_run_scheduled_jobs(tmp_path):
    """No REDIS_URL: beat schedules the heartbeat, a worker runs it, through files only."""
    started = timezone.now()
    var = tmp_path / "var"
    env = process_env(var)

    def heartbeat() -> str | None:
        # FileBasedCache creates its folder when built: only look once the workers wrote it.
        cache_dir = var / "cache"
        return cache_dir.is_dir() and FileBasedCache(str(cache_dir), {}).get(HEARTBEAT_CACHE_KEY)

    with celery(["worker", "--concurrency", "1"], ["beat"], env=env):
        stamp = wait_for(heartbeat)
    assert stamp, "no heartbeat: the embedded worker or beat did not run the scheduled job"
    assert datetime.fromisoformat(stamp) >= started
    assert (var / "broker" / "queue").is_dir()


@pytest.mark.redis
def test_redis_worker_runs_a_task_sent_from_here(settings, tmp_path):
    """A task sent by this process through Redis is run by a real worker, which writes Redis."""
    from config.celery import app

    app.conf.task_always_eager = False  # really send it (conftest restores its own value)

    assert app.conf.broker_url.startswith("redis://")
    queue = f"test-{uuid.uuid4().hex}"  # our own queue: no other worker can take the task
    cache.delete(HEARTBEAT_CACHE_KEY)
    env = process_env(tmp_path / "var", REDIS_URL=settings.REDIS_URL)
    with celery(["worker", "--concurrency", "1", "-Q", queue], env=env):
        app.send_task("config.tasks.worker_heartbeat", queue=queue)
        stamp = wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY))
    assert stamp, "the Redis worker did not run the task"


@pytest.mark.redis
def test_redis_beat_schedules_jobs_for_the_worker(settings, tmp_path):
    started = timezone.now()
    cache.delete(HEARTBEAT_CACHE_KEY)
    env = process_env(tmp_path / "var", REDIS_URL=settings.REDIS_URL)
    with celery(["worker", "--concurrency", "1"], ["beat"], env=env):
        stamp = wait_for(
            lambda: (
                (value := cache.get(HEARTBEAT_CACHE_KEY))
                and datetime.fromisoformat(value) >= started
                and value
            )
        )
    assert stamp, "beat and the worker did not run the heartbeat through Redis"
