"""The storefront home with and without the visits middleware. Not a test: prints numbers.

    .venv/bin/python bench/visits.py                  # SQLite test database
    DATABASE_URL=postgres://... .venv/bin/python bench/visits.py --requests 500

Through Django's full request cycle (test client, no network). The client closes each
response before returning, so the middleware's write (done after the response in a real
server) is inside the measured time here: the figures are an upper bound.
Prints the median and 95th percentile in ms for: no middleware, a returning visit (one
UPSERT), a new visitor each request (visitor INSERT + visit UPSERT).
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

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
MIDDLEWARE = "analytics.middleware.VisitMiddleware"


def timed(client, count: int, path: str = "/", fresh: bool = False) -> list[float]:
    times = []
    for _ in range(count):
        if fresh:
            client.cookies.clear()
        start = time.perf_counter()
        response = client.get(path, HTTP_USER_AGENT=UA)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        from analytics.models import Visit
        from catalog.models import Product

        Product.objects.bulk_create(
            [
                Product(title=f"Bench {n}", slug=f"bench-{n}", status=Product.Status.ACTIVE)
                for n in range(24)
            ]
        )
        without = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
        results = {}
        for _ in range(2):  # interleaved rounds, so drift hits both alike
            with override_settings(MIDDLEWARE=without):
                timed(Client(), 20)
                results.setdefault("without middleware", []).extend(
                    timed(Client(), args.requests // 2)
                )
            client = Client()
            timed(client, 20)
            results.setdefault("with, same visit", []).extend(timed(client, args.requests // 2))
            results.setdefault("with, new visitor each time", []).extend(
                timed(Client(), args.requests // 2, fresh=True)
            )
        print(f"{connection.vendor}, {args.requests} requests each, GET / (storefront home)")
        for name, times in results.items():
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"  {name:30} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms")
        print(f"  visits recorded: {Visit.objects.count()}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
