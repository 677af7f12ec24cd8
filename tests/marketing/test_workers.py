"""The abandonment worker under failure, with real Celery workers, Redis and PostgreSQL.

The workers are separate processes: they see the test's rows because the tests commit
(transactional database) and point the workers at the test database. Emails the workers
send go to files (EMAIL_URL=file://...), counted per recipient.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app
from config.tasks import HEARTBEAT_CACHE_KEY
from marketing.abandonment import abandonment_email_send, abandonment_send_due
from marketing.models import AbandonmentEmail
from marketing.tasks import abandonment_send_due_task
from orders.models import Cart
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def broker() -> Iterator[Callable[[], redis.Redis]]:
    """Call it once the test's data is in place: from then on tasks are really sent, to
    an empty queue in our own Redis database (set-up's stock tasks ran inline before)."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def start() -> redis.Redis:
        client.flushdb()
        app.conf.task_always_eager = False  # conftest restores its own value
        return client

    yield start
    client.flushdb()


def queued(client: redis.Redis) -> int:
    """Messages waiting in the default queue (kombu keeps one list per priority)."""
    return sum(client.llen(key) for key in client.keys("celery*") if client.type(key) == b"list")


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker(tmp_path: Path, name: str, **extra: str) -> Iterator[subprocess.Popen]:
    """One worker, solo pool: the task runs in this very process, so SIGKILL stops it
    mid-task (a prefork child would live on and finish the email)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"file://{tmp_path / 'mail'}",
        "VAR_DIR": str(tmp_path / f"var-{name}"),
        **extra,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-n",
            f"{name}@%h",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def drained() -> bool:
    """Run a heartbeat through the (single, in-order) worker twice: whatever was queued
    before, and whatever that queued in turn, has run when the second one has."""
    for _ in range(2):
        cache.delete(HEARTBEAT_CACHE_KEY)
        app.send_task("config.tasks.worker_heartbeat")
        if not wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY)):
            return False
    return True


def emails_to(tmp_path: Path, address: str) -> int:
    folder = tmp_path / "mail"
    if not folder.is_dir():
        return 0
    return sum(
        path.read_text().count(f"\nTo: {address}\n") for path in folder.iterdir() if path.is_file()
    )


@pytest.fixture
def due_cart(left_cart):
    """make(email): a cart left two hours ago, due for the first email."""

    def make(email: str) -> Cart:
        cart = left_cart(email=email)
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(hours=2))
        return cart

    return make


def test_a_rolled_back_transaction_enqueues_nothing(broker, due_cart, tmp_path):
    cart = due_cart("ada@example.net")
    redis_client = broker()

    def claim_then_fail() -> None:
        with transaction.atomic():
            abandonment_send_due()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        claim_then_fail()
    assert queued(redis_client) == 0
    assert not AbandonmentEmail.objects.exists()
    # Negative control: the same call, committed, does reach Redis and the worker.
    abandonment_send_due()
    assert queued(redis_client) == 1
    with worker(tmp_path, "rollback"):
        assert wait_for(lambda: emails_to(tmp_path, "ada@example.net"))
        assert drained()
    assert emails_to(tmp_path, "ada@example.net") == 1
    assert AbandonmentEmail.objects.get(cart=cart).outcome == "sent"


def test_a_worker_killed_between_claim_and_send_completes_once_after_restart(
    broker, due_cart, tmp_path
):
    cart = due_cart("ada@example.net")
    broker()
    claimed = AbandonmentEmail.objects.filter(cart=cart, attempt_at__isnull=False)
    with worker(
        tmp_path, "doomed", ABANDONMENT_PAUSE_AFTER_CLAIM="120", ABANDONMENT_CLAIM_STALE_SECONDS="3"
    ) as doomed:
        abandonment_send_due_task.delay()  # what beat sends every 15 minutes
        assert wait_for(claimed.exists), "the worker never claimed the email"
        os.kill(doomed.pid, signal.SIGKILL)  # mid-task: claimed, asleep, not sent
        doomed.wait(timeout=10)
    claim = AbandonmentEmail.objects.get(cart=cart)
    assert (claim.outcome, claim.sent_at, claim.attempts) == ("pending", None, 1)
    assert emails_to(tmp_path, "ada@example.net") == 0

    time.sleep(3.5)  # the claim goes stale
    with worker(tmp_path, "restarted", ABANDONMENT_CLAIM_STALE_SECONDS="3"):
        abandonment_send_due_task.delay()  # the next beat run
        assert wait_for(
            lambda: AbandonmentEmail.objects.filter(pk=claim.pk, outcome="sent").exists()
        )
        abandonment_send_due_task.delay()  # and the one after: nothing more
        assert drained()
    claim.refresh_from_db()
    assert claim.attempts == 2
    assert emails_to(tmp_path, "ada@example.net") == 1


def test_the_command_run_by_hand_while_the_worker_sends_changes_nothing_twice(
    broker, due_cart, left_cart, tmp_path, django_capture_on_commit_callbacks
):
    first = due_cart("ada@example.net")
    second = left_cart(email="grace@example.net")  # not due yet
    held = AbandonmentEmail.objects.filter(cart=first, attempt_at__isnull=False)
    broker()
    with worker(tmp_path, "busy", ABANDONMENT_PAUSE_AFTER_CLAIM="6"):
        abandonment_send_due_task.delay()
        assert wait_for(held.exists), "the worker never claimed the email"
        # While the worker holds the first cart's email, ops run the command by hand; the
        # second cart has just become due.
        Cart.objects.filter(pk=second.pk).update(updated_at=timezone.now() - timedelta(hours=2))
        out = StringIO()
        call_command("send_abandonment_emails", stdout=out)
        assert "1 abandonment email(s) handled." in out.getvalue()
        assert abandonment_email_send(claim_id=held.get().pk) is False  # held: not ours
        assert wait_for(
            lambda: AbandonmentEmail.objects.filter(cart=first, outcome="sent").exists()
        )
        abandonment_send_due_task.delay()  # beat again: both carts are done
        assert drained()
    # The command sent the second cart's email from here (this process's outbox); the
    # worker sent the first cart's; neither went twice.
    assert [message.to for message in mail.outbox] == [["grace@example.net"]]
    assert emails_to(tmp_path, "ada@example.net") == 1
    assert emails_to(tmp_path, "grace@example.net") == 0
    assert AbandonmentEmail.objects.filter(outcome="sent").count() == 2
