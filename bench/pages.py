"""Time the foundation's pages through Django's full request cycle (middleware, templates,
sessions, database), without a network hop. Not a test: it prints numbers to compare runs.

    .venv/bin/python bench/pages.py                 # SQLite (or DATABASE_URL)
    .venv/bin/python bench/pages.py --requests 500

Prints, per page: requests, median and 95th-percentile milliseconds, and queries per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_test_environment,
        teardown_test_environment,
    )

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        run(args.requests, CaptureQueriesContext, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def run(count: int, capture, connection) -> None:
    from django.test import Client

    from config.staff import STAFF_SESSION_KEY
    from customers.services import roles_sync, staff_create

    roles_sync()
    manager, _ = staff_create(email="bench@example.com", role="Manager", password="bench-pass-12c")
    staff = Client()
    staff.force_login(manager)
    session = staff.session
    session[STAFF_SESSION_KEY] = True
    session.save()
    shopper = Client()

    pages = [
        ("storefront home", shopper, "/"),
        ("search", shopper, "/search/?q=linen"),
        ("dashboard home", staff, "/dashboard/"),
        ("dashboard pillar", staff, "/dashboard/inventory/"),
        ("healthz", shopper, "/healthz"),
    ]
    print(f"{'page':<18}{'requests':>9}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    for name, client, path in pages:
        for _ in range(20):  # warm caches, template loaders, connections
            client.get(path)
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        with capture(connection) as queries:
            client.get(path)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(
            f"{name:<18}{count:>9}{statistics.median(timings):>11.2f}{p95:>9.2f}{len(queries):>9}"
        )


if __name__ == "__main__":
    main()
