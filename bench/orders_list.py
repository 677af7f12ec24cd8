"""Time the orders dashboard list at a million orders, per filter, on PostgreSQL.

    .venv/bin/python bench/orders_list.py                    # 1,000,000 orders
    .venv/bin/python bench/orders_list.py --orders 200000 --runs 30
    .venv/bin/python bench/orders_list.py --fresh            # drop and fill again

Creates (or reuses, when it already holds that many orders) the database
`store_bench_orders` on BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432),
migrates it, fills customers and orders with set-based SQL (INSERT ... SELECT
generate_series: the services would take hours at this size; this measures reading), runs
ANALYZE, then times what the list view runs for a page (the bounded count and the rows:
orders.selectors_staff.order_page over order_list_for_staff) for each filter, on the first
page and on a deep keyset page, and prints median / 95th-percentile milliseconds and whether
PostgreSQL's plan reads the whole table (a "Seq Scan" on orders_order).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
NAME = "store_bench_orders"
os.environ["DATABASE_URL"] = f"{SERVER}/{NAME}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))
os.environ.setdefault("DEBUG", "true")  # the development key; queries are not kept (below)

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Dennis",
         "Frances", "John", "Radia", "Tim", "Sophie", "Linus", "Guido", "Anita", "Leslie",
         "Niklaus", "Hedy"]  # fmt: skip
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson",
        "Ritchie", "Allen", "McCarthy", "Perlman", "Berners-Lee", "Wilson", "Torvalds", "Rossum",
        "Borg", "Lamport", "Wirth", "Lamarr", "Kay", "Engelbart", "Backus", "Codd", "Stonebraker"]  # fmt: skip


def prepare(orders: int, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [NAME]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{NAME}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{NAME}"')

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--noinput", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order")
        if cursor.fetchone()[0] == orders:
            print(f"reusing {NAME} with {orders:,} orders")
            return
        started = time.perf_counter()
        fill(cursor, orders)
        print(f"filled {NAME}: {orders:,} orders in {time.perf_counter() - started:.0f} s")


def fill(cursor, orders: int) -> None:
    customers = max(orders // 5, 1)
    cursor.execute("TRUNCATE orders_order, customers_customer RESTART IDENTITY CASCADE")
    cursor.execute(
        """
        INSERT INTO customers_customer (id, email, full_name, phone, accepts_marketing,
            marketing_consent_source, note, orders_count, total_spent, currency, created_at)
        SELECT g, 'c' || g || '@example.net',
               (%(first)s::text[])[1 + g %% cardinality(%(first)s::text[])] || ' ' ||
               (%(last)s::text[])[1 + (g / cardinality(%(first)s::text[]))
                                       %% cardinality(%(last)s::text[])],
               '', false, '', '', 5, 0, 'EUR', now() - interval '3 years'
        FROM generate_series(1, %(customers)s) AS g
        """,
        {"first": FIRST, "last": LAST, "customers": customers},
    )
    # One random draw per concern, so statuses, risk and dates are independent.
    cursor.execute(
        """
        INSERT INTO orders_order (id, number, secret, cart_token, customer_id, email, status,
            held_from, hold_reason, payment_status, fulfillment_status, channel, currency,
            prices_include_tax, subtotal, discount_total, shipping_total, tax_total, total,
            paid_total, refunded_total, cost_total, shipping_address, billing_address,
            shipping_method_name, voucher_code, payment_method, risk_score, risk_reasons,
            is_disputed, ip_address, customer_note, created_at, updated_at)
        SELECT r.g, (1000 + r.g)::text, md5(r.g::text), NULL, c.id, c.email, r.status, '', '',
            CASE WHEN r.status IN ('pending_payment', 'on_hold')
                      THEN CASE WHEN r.p < 0.3 THEN 'failed' ELSE 'unpaid' END
                 WHEN r.status = 'refunded' THEN 'refunded'
                 WHEN r.status = 'cancelled' THEN 'unpaid'
                 WHEN r.p < 0.04 THEN 'partially_refunded'
                 ELSE 'paid' END,
            CASE r.status WHEN 'fulfilled' THEN 'fulfilled'
                          WHEN 'refunded' THEN 'fulfilled'
                          WHEN 'partially_fulfilled' THEN 'partial'
                          ELSE 'unfulfilled' END,
            'web', 'EUR', true, r.total, 0, 4.90, round(r.total * 0.16, 2), r.total + 4.90,
            CASE WHEN r.status IN ('pending_payment', 'on_hold', 'cancelled') THEN 0
                 ELSE r.total + 4.90 END,
            CASE WHEN r.status = 'refunded' THEN r.total + 4.90 ELSE 0 END, 0,
            jsonb_build_object('full_name', c.full_name, 'line1', '1 Main St', 'city', 'Berlin',
                               'postal_code', '10115', 'country', 'DE'),
            '{}'::jsonb, 'Standard', '', 'bank_transfer', r.risk, '[]'::jsonb, false,
            '10.0.0.1'::inet + (r.g %% 60000), '', r.created_at, r.created_at
        FROM (
            SELECT g,
                   CASE WHEN s < 0.04 THEN 'pending_payment' WHEN s < 0.06 THEN 'on_hold'
                        WHEN s < 0.26 THEN 'paid' WHEN s < 0.30 THEN 'partially_fulfilled'
                        WHEN s < 0.90 THEN 'fulfilled' WHEN s < 0.95 THEN 'cancelled'
                        ELSE 'refunded' END AS status,
                   p,
                   CASE WHEN k < 0.02 THEN 60 + floor(random() * 41)::int
                        WHEN k < 0.20 THEN floor(random() * 60)::int ELSE 0 END AS risk,
                   round((10 + random() * 290)::numeric, 2) AS total,
                   now() - random() * interval '730 days' AS created_at
            FROM (SELECT g, random() AS s, random() AS p, random() AS k
                  FROM generate_series(1, %(orders)s) AS g) AS draws
        ) AS r
        JOIN customers_customer c ON c.id = 1 + (r.g::bigint * 7919) %% %(customers)s
        """,
        {"orders": orders, "customers": customers},
    )
    cursor.execute("SELECT setval('orders_order_id_seq', %s)", [orders])
    cursor.execute("SELECT setval('customers_customer_id_seq', %s)", [customers])
    cursor.execute("ANALYZE customers_customer")
    cursor.execute("ANALYZE orders_order")


def cases(cursor) -> list[tuple[str, dict]]:
    import datetime as dt

    from django.utils import timezone

    cursor.execute(
        "SELECT number, email, customer_id FROM orders_order WHERE id = 424242 % (SELECT max(id) FROM orders_order) + 1"
    )
    number, email, customer = cursor.fetchone()
    today = timezone.localdate()
    month = {"date_from": today - dt.timedelta(days=120), "date_to": today - dt.timedelta(days=90)}
    return [
        ("no filter", {}),
        ("status=paid", {"status": "paid"}),
        ("status=on_hold", {"status": "on_hold"}),
        ("payment=failed", {"payment_status": "failed"}),
        ("payment=partially_refunded", {"payment_status": "partially_refunded"}),
        ("fulfillment=partial", {"fulfillment_status": "partial"}),
        ("risk=high (>= threshold)", {"risk": "high"}),
        ("date range (30 days)", month),
        ("status=paid + date range", {"status": "paid", **month}),
        ("search: order number", {"q": number}),
        ("search: email prefix", {"q": email.split("@")[0] + "@"}),
        ("search: name prefix", {"q": "grace hop"}),
        ("customer=<id>", {"customer": customer}),
    ]


def deep_cursor(queryset) -> tuple[str, int]:
    """The cursor of a row far down the filtered list (found once, with OFFSET, untimed)."""
    from orders.selectors_staff import COUNT_LIMIT, Cursor

    depth = min(50_000, max(queryset.order_by()[: COUNT_LIMIT * 100].count() // 2, 0))
    row = queryset.values_list("created_at", "id")[depth : depth + 1].first()
    return (Cursor(row[0], row[1]).encode() if row else ""), depth


def timed(function, runs: int) -> tuple[float, float]:
    function()
    function()  # warm the cache, as a working dashboard is
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def plan_reads_whole_table(connection, queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    if "Seq Scan on orders_order" in plan:
        return "SEQ SCAN"
    indexes = sorted(
        {
            part.split(" on ")[0].split()[-1]
            for part in plan.split("Index")
            if " on orders_order" in part and "Scan using" in part
        }
    )
    return ", ".join(indexes) or "index"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from orders.selectors_staff import Cursor, _after, order_list_for_staff, order_page

    connection.force_debug_cursor = False
    prepare(args.orders, args.fresh)
    print(f"{'filter':30} {'page':>5} {'rows':>5} {'count':>6} {'p50 ms':>8} {'p95 ms':>8}  plan")
    with connection.cursor() as cursor:
        tests = cases(cursor)
    for label, filters in tests:
        queryset = order_list_for_staff(filters=filters)
        deep, depth = deep_cursor(queryset)
        for page_label, cursor in (("first", None), ("deep", deep)):
            if page_label == "deep" and (not deep or depth == 0):
                continue
            page = order_page(queryset, after=cursor)
            p50, p95 = timed(partial(order_page, queryset, after=cursor), args.runs)
            count = f"{page.count - 1}+" if page.count_is_bounded else str(page.count)
            rows_query = queryset
            if cursor:
                rows_query = queryset.filter(_after(Cursor.decode(cursor)))
            plan = plan_reads_whole_table(connection, rows_query[:51])
            shown = "first" if page_label == "first" else f"@{depth}"
            print(
                f"{label:30} {shown:>6} {len(page.rows):>5} {count:>6} {p50:8.1f} {p95:8.1f}  {plan}"
            )


if __name__ == "__main__":
    main()
