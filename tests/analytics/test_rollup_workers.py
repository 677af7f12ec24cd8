"""The rollup job on a real Celery worker through Redis, against PostgreSQL: killed with
SIGKILL in the middle, redelivered, and run by hand at the same time as the worker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from kombu import Connection

from analytics.models import DailyKpi, DailySourceKpi, KpiDay, Visit
from analytics.selectors import store_today
from analytics.services import PAUSE_ENV
from orders.models import Order
from orders.services import order_mark_paid, order_place
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "VAR_DIR": str(tmp_path / "var"),
        **extra,
    }


def start_worker(queue: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "1",
            "-Q",
            queue,
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def three_days(transactional_db):
    """An order and visits on each of the last three days (nothing before)."""
    warehouse = WarehouseFactory()
    variant = VariantFactory(price=Decimal("10.00"))
    stock(variant, warehouse, 50)
    staff = StaffFactory()
    today = store_today()
    for back in (1, 2, 3):
        moment = timezone.now() - timedelta(days=back)
        order = order_place(cart=ready_cart([(variant, back)], email=f"s{back}@example.net"))
        order_mark_paid(order=order, actor=staff)
        Order.objects.filter(pk=order.pk).update(created_at=moment)
        for n in range(back):
            Visit.objects.create(
                key=f"{back}{n}".ljust(32, "0"),
                visitor_key="v" * 32,
                started_at=moment,
                last_seen_at=moment,
                landing_path="/",
                source="google",
                device="mobile",
            )
    return [today - timedelta(days=back) for back in (3, 2, 1)]


def snapshot():
    return (
        list(DailyKpi.objects.order_by("day").values()),
        list(DailySourceKpi.objects.order_by("day", "source").values()),
    )


def test_a_worker_killed_mid_rollup_leaves_nothing_and_the_redelivered_job_completes(
    three_days, tmp_path
):
    from config.celery import app

    app.conf.task_always_eager = False
    queue = f"test-rollup-{uuid.uuid4().hex}"
    marker = tmp_path / "inside"
    env = worker_env(tmp_path, **{PAUSE_ENV: "120", f"{PAUSE_ENV}_MARKER": str(marker)})
    worker = start_worker(queue, env)
    try:
        app.send_task("analytics.tasks.kpis_rollup_task", queue=queue)
        assert wait_for(marker.exists), "the worker never reached the middle of the rollup"
        worker.kill()  # SIGKILL: no warm shutdown, no ack, an open transaction
        worker.wait(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    # The dead worker's transaction was rolled back by PostgreSQL: nothing half-written.
    assert not DailyKpi.objects.exists()
    assert not KpiDay.objects.filter(rolled_at__isnull=False).exists()

    # Redis hands an unacknowledged message back once its visibility timeout has passed
    # (an hour in settings); a connection with a timeout of 0 does that now.
    with Connection(settings.REDIS_URL, transport_options={"visibility_timeout": 0}) as conn:
        conn.default_channel.qos.restore_visible(num=100)

    worker = start_worker(queue, worker_env(tmp_path))
    try:
        assert wait_for(
            lambda: KpiDay.objects.filter(day__in=three_days, rolled_at__isnull=False).count() == 3
        ), "the redelivered job did not complete"
    finally:
        stop(worker)
    rows = {row.day: row for row in DailyKpi.objects.all()}
    assert [rows[d].orders for d in three_days] == [1, 1, 1]
    assert [rows[d].units for d in three_days] == [3, 2, 1]
    assert [rows[d].sessions for d in three_days] == [3, 2, 1]
    assert DailyKpi.objects.count() == 3  # no duplicate and no lost day
    assert KpiDay.objects.filter(day__in=three_days, runs=1).count() == 3


def test_the_command_by_hand_while_the_worker_rolls_the_same_days_changes_nothing_twice(
    three_days, tmp_path
):
    from config.celery import app

    app.conf.task_always_eager = False
    call_command(
        "rollup_kpis", "--from", three_days[0].isoformat(), "--to", three_days[-1].isoformat()
    )
    expected = snapshot()
    queue = f"test-rollup-{uuid.uuid4().hex}"
    marker = tmp_path / "inside"
    env = worker_env(tmp_path, **{PAUSE_ENV: "3", f"{PAUSE_ENV}_MARKER": str(marker)})
    worker = start_worker(queue, env)
    try:
        app.send_task("analytics.tasks.kpis_rollup_task", queue=queue)
        assert wait_for(marker.exists)
        # The worker holds the days' claim rows; the command waits for it, then rewrites.
        started = time.monotonic()
        done = threading.Event()

        def by_hand():
            from django.db import connection

            call_command(
                "rollup_kpis",
                "--from",
                three_days[0].isoformat(),
                "--to",
                three_days[-1].isoformat(),
            )
            done.set()
            connection.close()

        thread = threading.Thread(target=by_hand)
        thread.start()
        thread.join(timeout=60)
        assert done.is_set()
        assert time.monotonic() - started > 1  # it waited for the worker's lock
        # Yesterday: by hand before, by the worker, by hand again.
        assert wait_for(lambda: KpiDay.objects.filter(day=three_days[-1], runs=3).exists())
    finally:
        stop(worker)
    assert snapshot() == expected  # same rows, same ids, nothing doubled
