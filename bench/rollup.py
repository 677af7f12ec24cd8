"""KPI rollup at a year of data, on PostgreSQL. Not a test: it prints numbers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/store_bench_rollup \\
        .venv/bin/python bench/rollup.py                  # 1,000,000 orders
        .venv/bin/python bench/rollup.py --orders 100000  # quicker
        .venv/bin/python bench/rollup.py --keep           # reuse the data of the last run

Migrates the database it is given, fills it with set-based SQL (generate_series): a year
of orders with two lines each, their carts (plus carts never ordered), customers,
refunds, visits and product views; then times
  - the full-year rollup (analytics.services.kpis_roll_up over 365 days),
  - a one-day rollup (median of 5),
  - the same aggregation as one raw SQL statement,
and prints the figures against the targets (full <= 2x raw, one day <= 100 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))

FIRST = date(2025, 1, 1)
DAYS = 365
PRODUCTS = 500


def insert_series(model, count: int, computed: dict[str, str], template) -> None:
    """INSERT INTO model's table SELECT ... FROM generate_series(1, count) AS s(i): columns
    in `computed` are SQL expressions of i, every other column is the template's value."""
    from django.db import connection

    columns, selects, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in computed:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in computed:
            selects.append(computed[field.column].replace("%", "%%"))
        else:
            selects.append("%s")
            value = field.pre_save(template, add=True)
            params.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM generate_series(1::bigint, {int(count)}::bigint) AS s(i)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def generate(orders: int) -> None:
    from django.db import connection, transaction

    from analytics.models import ProductView, Visit
    from catalog.models import Product, Variant
    from customers.models import Customer
    from orders.models import Cart, CartLine, Order, Payment, Refund

    span = DAYS * 86400
    start = f"TIMESTAMPTZ '{FIRST.isoformat()} 00:00:00+00'"
    customers = max(orders // 5, 1)
    carts = orders + orders * 3 // 10
    visits = orders * 2
    with transaction.atomic():
        Product.objects.bulk_create(
            [Product(title=f"Bench {n}", slug=f"bench-{n}") for n in range(PRODUCTS)]
        )
        products = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        Variant.objects.bulk_create(
            [
                Variant(product_id=pk, sku=f"BENCH-{pk}", price=10 + pk % 90, cost=5 + pk % 40)
                for pk in products
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id) FROM catalog_variant WHERE sku LIKE 'BENCH-%'")
            v0 = cursor.fetchone()[0]
            cursor.execute("SELECT min(id) FROM catalog_product WHERE slug LIKE 'bench-%'")
            p0 = cursor.fetchone()[0]
        at = f"{start} + ((i::float8 * {span} / {{n}}) + (i * 7919 % 600)) * interval '1 second'"
        insert_series(
            Customer,
            customers,
            {"email": "'bench' || i || '@example.net'"},
            Customer(email="x@example.net"),
        )
        c0 = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
        t = time.perf_counter()
        # Carts 1..orders become orders; the rest (30 %) are left.
        insert_series(
            Cart,
            carts,
            {
                "token": "'bench' || i",
                "status": f"CASE WHEN i <= {orders} THEN 'ordered' ELSE 'open' END",
                "created_at": at.format(n=carts),
                "updated_at": at.format(n=carts),
                "checkout_started_at": f"CASE WHEN i % 3 > 0 THEN {at.format(n=carts)} END",
                "ordered_at": f"CASE WHEN i <= {orders} THEN {at.format(n=carts)} "
                "+ interval '20 minutes' END",
            },
            Cart(),
        )
        insert_series(
            CartLine,
            carts,
            {
                "cart_id": "(SELECT min(id) FROM orders_cart) + i - 1",
                "variant_id": f"{v0} + (i * 31 % {PRODUCTS})",
                "added_at": at.format(n=carts),
            },
            CartLine(quantity=1, price_seen=10),
        )
        insert_series(
            Order,
            orders,
            {
                "number": "'B' || i",
                "cart_token": "'bench' || i",
                "customer_id": f"{c0} + (i * 7 % {customers})",
                "email": "'bench' || i || '@example.net'",
                "status": "CASE WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 20 = 1 "
                "THEN 'pending_payment' ELSE 'paid' END",
                "payment_status": "CASE WHEN i % 20 = 1 THEN 'unpaid' ELSE 'paid' END",
                "subtotal": "20 + i % 200",
                "discount_total": "CASE WHEN i % 10 = 0 THEN 5 ELSE 0 END",
                "shipping_total": "4.90",
                "tax_total": "round((20 + i % 200) * 0.16, 2)",
                "total": "24.90 + i % 200 - CASE WHEN i % 10 = 0 THEN 5 ELSE 0 END",
                "paid_total": "24.90 + i % 200 - CASE WHEN i % 10 = 0 THEN 5 ELSE 0 END",
                "cost_total": "round((20 + i % 200) * 0.45, 2)",
                "created_at": at.format(n=orders),
                "updated_at": at.format(n=orders),
                "paid_at": at.format(n=orders),
            },
            Order(email="x@example.net", customer_id=c0),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO orders_orderline (order_id, variant_id, product_title, variant_title,
                    sku, quantity, unit_price, unit_cost, discount_amount, tax_rate, tax_amount,
                    line_total, weight_grams, quantity_fulfilled, quantity_refunded)
                SELECT o.id, %s + ((o.id * 13 + n * 101) %% %s), 'Bench', '', 'BENCH', n,
                       10, 4.5, 0, 19, 1.6, 10 * n, 0, 0, 0
                FROM orders_order o CROSS JOIN generate_series(1, 2) AS n
                WHERE o.number LIKE 'B%%'
                """,
                [v0, PRODUCTS],
            )
            cursor.execute(
                """
                UPDATE customers_customer c SET first_order_at = f.first
                FROM (SELECT customer_id, min(created_at) AS first FROM orders_order
                      GROUP BY customer_id) f WHERE f.customer_id = c.id
                """
            )
        # 2 % of orders get a refund, counted ten days later.
        refunded = orders // 50
        insert_series(
            Payment,
            refunded,
            {
                "order_id": "(SELECT min(id) FROM orders_order) + i * 50 - 48",
                "status": "'succeeded'",
                "amount": "20",
                "currency": "'EUR'",
            },
            Payment(provider="bank_transfer", amount=20, currency="EUR"),
        )
        insert_series(
            Refund,
            refunded,
            {
                "order_id": "(SELECT min(id) FROM orders_order) + i * 50 - 48",
                "payment_id": "(SELECT min(id) FROM orders_payment) + i - 1",
                "amount": "10",
                "currency": "'EUR'",
                "status": "'succeeded'",
                "created_at": f"{at.format(n=refunded)} + interval '10 days'",
            },
            Refund(amount=10, currency="EUR"),
        )
        insert_series(
            Visit,
            visits,
            {
                "key": "md5('visit' || i)",
                "visitor_key": f"md5('visitor' || (i % {visits // 3 + 1}))",
                "started_at": at.format(n=visits),
                "last_seen_at": at.format(n=visits),
                "source": "(ARRAY['direct','google','newsletter','instagram','bing'])[1 + i % 5]",
                "device": "(ARRAY['mobile','desktop','tablet'])[1 + i % 3]",
                "page_views": "1 + i % 6",
            },
            Visit(landing_path="/", device="mobile"),
        )
        insert_series(
            ProductView,
            visits,
            {
                "visit_key": "md5('visit' || i)",
                "product_id": f"{p0} + (i * 17 % {PRODUCTS})",
                "viewed_at": at.format(n=visits),
            },
            ProductView(visit_key="x", product_id=p0, viewed_at=FIRST),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO analytics_orderattribution (order_id, visit_key, source)
                SELECT id, '', (ARRAY['direct','google','newsletter','instagram','bing'])[1 + id % 5]
                FROM orders_order WHERE number LIKE 'B%' AND id % 2 = 0
                """
            )
        print(f"  orders, lines, carts, refunds, visits: {time.perf_counter() - t:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


RAW = """
WITH o AS (
  SELECT (o.created_at AT TIME ZONE %(tz)s)::date AS day, o.id, o.customer_id, o.total,
         o.discount_total, o.tax_total, o.shipping_total, o.cost_total,
         (c.first_order_at AT TIME ZONE %(tz)s)::date AS first_day,
         coalesce(a.source, '(none)') AS source
  FROM orders_order o JOIN customers_customer c ON c.id = o.customer_id
  LEFT JOIN analytics_orderattribution a ON a.order_id = o.id
  WHERE o.created_at >= %(start)s AND o.created_at < %(end)s AND o.status <> 'cancelled'
    AND o.payment_status IN ('paid', 'partially_refunded', 'refunded')
), lines AS (
  SELECT o.day, v.product_id, l.quantity, l.line_total
  FROM orders_orderline l JOIN o ON o.id = l.order_id JOIN catalog_variant v ON v.id = l.variant_id
), visits AS (
  SELECT (started_at AT TIME ZONE %(tz)s)::date AS day, source, page_views FROM analytics_visit
  WHERE started_at >= %(start)s AND started_at < %(end)s
), pviews AS (
  SELECT (viewed_at AT TIME ZONE %(tz)s)::date AS day, product_id FROM analytics_productview
  WHERE viewed_at >= %(start)s AND viewed_at < %(end)s
), adds AS (
  SELECT (l.added_at AT TIME ZONE %(tz)s)::date AS day, v.product_id
  FROM orders_cartline l JOIN catalog_variant v ON v.id = l.variant_id
  WHERE l.added_at >= %(start)s AND l.added_at < %(end)s
), carts AS (
  SELECT (created_at AT TIME ZONE %(tz)s)::date AS day,
         count(*) AS created,
         count(*) FILTER (WHERE ordered_at IS NULL OR ordered_at > created_at + interval '24 hours')
           AS abandoned
  FROM orders_cart c WHERE created_at >= %(start)s AND created_at < %(end)s
    AND status <> 'merged'
    AND (EXISTS (SELECT 1 FROM orders_cartline l WHERE l.cart_id = c.id) OR ordered_at IS NOT NULL)
  GROUP BY 1
), overall AS (
  SELECT d.day, ord.orders, ord.gross, ord.new, ord.ret, u.units, r.refunds, vs.sessions,
         vs.bounces, pv.views, ad.adds, ch.checkouts, ca.created, ca.abandoned
  FROM (SELECT generate_series(%(first)s::date, %(last)s::date, '1 day')::date AS day) d
  LEFT JOIN (SELECT day, count(*) AS orders, sum(total) AS gross, sum(discount_total) AS disc,
             sum(tax_total) AS tax, sum(shipping_total) AS ship, sum(cost_total) AS cost,
             count(DISTINCT customer_id) FILTER (WHERE first_day = day) AS new,
             count(DISTINCT customer_id) FILTER (WHERE first_day <> day) AS ret
             FROM o GROUP BY day) ord USING (day)
  LEFT JOIN (SELECT day, sum(quantity) AS units FROM lines GROUP BY day) u USING (day)
  LEFT JOIN (SELECT (r.created_at AT TIME ZONE %(tz)s)::date AS day, sum(r.amount) AS refunds
             FROM orders_refund r JOIN orders_order o ON o.id = r.order_id
             WHERE r.created_at >= %(start)s AND r.created_at < %(end)s
               AND r.status = 'succeeded' AND o.status <> 'cancelled' GROUP BY 1) r USING (day)
  LEFT JOIN (SELECT day, count(*) AS sessions, count(*) FILTER (WHERE page_views = 1) AS bounces
             FROM visits GROUP BY day) vs USING (day)
  LEFT JOIN (SELECT day, count(*) AS views FROM pviews GROUP BY day) pv USING (day)
  LEFT JOIN (SELECT day, count(*) AS adds FROM adds GROUP BY day) ad USING (day)
  LEFT JOIN (SELECT (checkout_started_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS checkouts
             FROM orders_cart WHERE checkout_started_at >= %(start)s
               AND checkout_started_at < %(end)s GROUP BY 1) ch USING (day)
  LEFT JOIN carts ca USING (day)
), sources AS (
  SELECT day, source, sum(sessions) AS sessions, sum(orders) AS orders, sum(revenue) AS revenue
  FROM (SELECT day, source, count(*) AS sessions, 0 AS orders, 0 AS revenue FROM visits
        GROUP BY 1, 2
        UNION ALL
        SELECT day, source, 0, count(*), sum(total) FROM o GROUP BY 1, 2) s
  GROUP BY 1, 2
), products AS (
  SELECT day, product_id, sum(views) AS views, sum(adds) AS adds, sum(units) AS units,
         sum(revenue) AS revenue
  FROM (SELECT day, product_id, count(*) AS views, 0 AS adds, 0 AS units, 0 AS revenue
        FROM pviews GROUP BY 1, 2
        UNION ALL SELECT day, product_id, 0, count(*), 0, 0 FROM adds GROUP BY 1, 2
        UNION ALL SELECT day, product_id, 0, 0, sum(quantity), sum(line_total) FROM lines
        GROUP BY 1, 2) p
  GROUP BY 1, 2
)
SELECT 'overall', count(*), sum(coalesce(orders, 0) + coalesce(gross, 0) + coalesce(new, 0)
       + coalesce(ret, 0) + coalesce(units, 0) + coalesce(refunds, 0) + coalesce(sessions, 0)
       + coalesce(bounces, 0) + coalesce(views, 0) + coalesce(adds, 0) + coalesce(checkouts, 0)
       + coalesce(created, 0) + coalesce(abandoned, 0)) FROM overall
UNION ALL SELECT 'sources', count(*), sum(sessions + orders + revenue) FROM sources
UNION ALL SELECT 'products', count(*), sum(views + adds + units + revenue) FROM products
"""


CHECK = """
SELECT 'overall', count(*), sum(orders + gross_revenue + new_customers + returning_customers
       + units + refunds + sessions + bounces + product_views + add_to_carts + checkouts_started
       + carts_created + carts_abandoned)
FROM analytics_dailykpi WHERE day BETWEEN %(first)s AND %(last)s
UNION ALL SELECT 'sources', count(*), sum(sessions + orders + revenue)
FROM analytics_dailysourcekpi WHERE day BETWEEN %(first)s AND %(last)s
UNION ALL SELECT 'products', count(*), sum(views + add_to_carts + units + revenue)
FROM analytics_dailyproductkpi WHERE day BETWEEN %(first)s AND %(last)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the data already there")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from analytics.models import DailyKpi
    from analytics.selectors import day_bounds, store_tz
    from analytics.services import kpis_roll_up
    from orders.models import Order

    if connection.vendor != "postgresql":
        sys.exit("bench/rollup.py needs PostgreSQL: set DATABASE_URL.")
    call_command("migrate", verbosity=0)
    last = FIRST + timedelta(days=DAYS - 1)
    if not (args.keep and Order.objects.filter(number__startswith="B").exists()):
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE orders_refund, orders_payment, orders_orderline, orders_order, "
                "orders_cartline, orders_cart, customers_customer, analytics_visit, "
                "analytics_productview, analytics_orderattribution, analytics_dailykpi, "
                "analytics_dailysourcekpi, analytics_dailyproductkpi, analytics_kpiday, "
                "catalog_variant, catalog_product CASCADE"
            )
        t = time.perf_counter()
        generate(args.orders)
        print(f"generated {args.orders:,} orders in {time.perf_counter() - t:.1f} s")

    start, end = day_bounds(FIRST, last)
    params = {"tz": str(store_tz()), "start": start, "end": end, "first": FIRST, "last": last}
    raw_times = []
    for _ in range(2):
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(RAW, params)
            result = cursor.fetchall()
        raw_times.append(time.perf_counter() - t)
    raw = min(raw_times)
    print(f"raw statement: {raw * 1000:.0f} ms  {result}")

    full_times = []
    for _ in range(2):
        t = time.perf_counter()
        kpis_roll_up(first=FIRST, last=last)
        full_times.append(time.perf_counter() - t)
    full = min(full_times)
    print(f"full-year rollup: {full * 1000:.0f} ms ({DailyKpi.objects.count()} days)")

    with connection.cursor() as cursor:
        cursor.execute(CHECK, {"first": FIRST, "last": last})
        stored = cursor.fetchall()
    agree = [tuple(row) for row in stored] == [tuple(row) for row in result]
    print(f"rollup tables agree with the raw statement (row counts, checksums): {agree}")

    one_day = []
    for offset in (40, 120, 200, 280, 360):
        day = FIRST + timedelta(days=offset)
        t = time.perf_counter()
        kpis_roll_up(first=day, last=day)
        one_day.append(time.perf_counter() - t)
    day_ms = statistics.median(one_day) * 1000
    print(f"one-day rollup: median {day_ms:.0f} ms, max {max(one_day) * 1000:.0f} ms")
    print(
        f"targets: full <= 2x raw: {full / raw:.2f}x {'OK' if full <= 2 * raw else 'MISSED'}; "
        f"one day <= 100 ms: {'OK' if day_ms <= 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
