"""Storefront speed under gunicorn, on a catalog of N products.

    .venv/bin/python bench/storefront.py --products 10000
    .venv/bin/python bench/storefront.py --products 100000 --only search

Creates (or reuses) the PostgreSQL database `bench_storefront_<N>` on BENCH_DATABASE_URL's
server (default postgres://postgres@127.0.0.1:5432), fills it with set-based inserts
(the services would take hours at this size; this measures reading, not writing),
collects static files, starts gunicorn with production settings and times anonymous
requests from a thread pool. Prints requests per second and median / 95th-percentile
milliseconds per page; /robots.txt is the "minimal Django page" to compare with.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE_URL = ""  # set by main(): one database per catalog size, kept between runs
ADDRESS = "127.0.0.1:8077"

ADJECTIVES = [
    "Classic",
    "Rustic",
    "Nordic",
    "Vintage",
    "Modern",
    "Linen",
    "Woven",
    "Hammered",
    "Brushed",
    "Glazed",
    "Compact",
    "Folding",
    "Heavy",
    "Light",
    "Soft",
    "Organic",
    "Recycled",
    "Waxed",
    "Quilted",
    "Speckled",
]
MATERIALS = [
    "Oak",
    "Walnut",
    "Brass",
    "Copper",
    "Steel",
    "Cotton",
    "Wool",
    "Leather",
    "Stoneware",
    "Porcelain",
    "Glass",
    "Bamboo",
    "Cedar",
    "Felt",
    "Canvas",
    "Marble",
    "Cork",
    "Iron",
    "Ceramic",
    "Hemp",
]
NOUNS = [
    "Lamp",
    "Mug",
    "Bowl",
    "Skillet",
    "Kettle",
    "Chair",
    "Stool",
    "Blanket",
    "Towel",
    "Apron",
    "Basket",
    "Planter",
    "Vase",
    "Tray",
    "Board",
    "Knife",
    "Spoon",
    "Candle",
    "Bottle",
    "Lantern",
    "Jar",
    "Rug",
    "Shelf",
    "Clock",
    "Mirror",
]
WORDS = [
    "durable",
    "handmade",
    "everyday",
    "kitchen",
    "garden",
    "outdoor",
    "table",
    "bedroom",
    "travel",
    "gift",
    "natural",
    "finish",
    "care",
    "wash",
    "season",
    "warm",
    "light",
    "bright",
    "quiet",
    "simple",
    "sturdy",
]


def env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": "/tmp/bench-storefront-var",
        # The cache of anonymous product pages lives in Redis, as in production.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "LOG_LEVEL": "WARNING",
    }


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env(), check=True)


def prepare_database(products: int) -> None:
    import psycopg

    global DATABASE_URL
    name = f"bench_storefront_{products}"
    DATABASE_URL = f"{SERVER.rstrip('/')}/{name}"
    with psycopg.connect(SERVER + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput", "-v", "0")
    with psycopg.connect(DATABASE_URL) as conn:
        have = conn.execute("SELECT count(*) FROM catalog_product").fetchone()[0]
        if have >= products:
            print(f"Database has {have} products already.")
            return
        print(f"Seeding {products - have} products...")
        seed(conn, start=have, count=products - have)
        conn.execute("REFRESH MATERIALIZED VIEW catalog_search_word")
        conn.execute("ANALYZE")


def published(index: int) -> str:
    """Publication times a minute apart, as a real catalog has (identical ones would defeat
    the index that orders "newest")."""
    return f"2026-01-01 00:00:00+00:00 -{index} minutes"


def seed(conn, *, start: int, count: int) -> None:
    """Set-based inserts: categories, products with 3 variants of one option each."""
    rng = random.Random(start)  # noqa: S311 - benchmark data
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM catalog_category")
    if cur.fetchone()[0] == 0:
        for index in range(20):
            cur.execute(
                "INSERT INTO catalog_category (name, slug, position, description, seo_title,"
                " seo_description, path) VALUES (%s, %s, %s, '', '', '', '/') RETURNING id",
                (f"Category {index}", f"category-{index}", index),
            )
            pk = cur.fetchone()[0]
            cur.execute("UPDATE catalog_category SET path = %s WHERE id = %s", (f"/{pk}/", pk))
    cur.execute("SELECT id FROM catalog_category ORDER BY id")
    categories = [row[0] for row in cur.fetchall()]
    batch = 5000
    for offset in range(start, start + count, batch):
        size = min(batch, start + count - offset)
        rows = []
        for index in range(offset, offset + size):
            title = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)} {index}"
            description = " ".join(rng.choices(WORDS, k=30))
            price = round(rng.uniform(5, 300), 2)
            rows.append(
                (
                    title,
                    f"p-{index}",
                    description,
                    rng.choice(MATERIALS),
                    rng.choice(categories),
                    price,
                    price + 20,
                )
            )
        with cur.copy(
            "COPY catalog_product (title, slug, description, vendor, category_id, price_min,"
            " price_max, product_type, status, seo_title, seo_description, currency, created_at,"
            " updated_at, published_at) FROM STDIN"
        ) as copy:
            for title, slug, description, vendor, category, low, high in rows:
                copy.write_row(
                    (
                        title,
                        slug,
                        description,
                        vendor,
                        category,
                        low,
                        high,
                        "",
                        "active",
                        "",
                        "",
                        "EUR",
                        "now",
                        "now",
                        published(int(slug.removeprefix("p-"))),
                    )
                )
        cur.execute(
            "INSERT INTO catalog_productoption (product_id, name, position)"
            " SELECT id, 'Size', 0 FROM catalog_product WHERE slug = ANY(%s)",
            ([row[1] for row in rows],),
        )
        cur.execute(
            "INSERT INTO catalog_optionvalue (option_id, value, position)"
            " SELECT o.id, v.value, v.position FROM catalog_productoption o"
            " JOIN catalog_product p ON p.id = o.product_id"
            " CROSS JOIN (VALUES ('S', 0), ('M', 1), ('L', 2)) AS v(value, position)"
            " WHERE p.slug = ANY(%s)",
            ([row[1] for row in rows],),
        )
        cur.execute(
            "INSERT INTO catalog_variant (product_id, sku, barcode, title, price, currency,"
            " weight_grams, track_inventory, position)"
            " SELECT p.id, 'SKU-' || p.id || '-' || v.value, '', v.value,"
            " p.price_min + v.position * 10, 'EUR', 500, true, v.position"
            " FROM catalog_product p JOIN catalog_productoption o ON o.product_id = p.id"
            " JOIN catalog_optionvalue v ON v.option_id = o.id WHERE p.slug = ANY(%s)",
            ([row[1] for row in rows],),
        )
        cur.execute(
            "INSERT INTO catalog_variant_option_values (variant_id, optionvalue_id)"
            " SELECT va.id, v.id FROM catalog_variant va"
            " JOIN catalog_productoption o ON o.product_id = va.product_id"
            " JOIN catalog_optionvalue v ON v.option_id = o.id AND v.value = va.title"
            " JOIN catalog_product p ON p.id = va.product_id WHERE p.slug = ANY(%s)",
            ([row[1] for row in rows],),
        )
        conn.commit()
        print(f"  {offset + size} products")


def start_server(workers: int) -> subprocess.Popen:
    manage("collectstatic", "--noinput", "-v", "0")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            ADDRESS,
            "--workers",
            str(workers),
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env(),
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://{ADDRESS}/robots.txt", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def measure(paths: list[str], *, requests: int, concurrency: int) -> tuple[float, float, float]:
    def one(index: int) -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(
            f"http://{ADDRESS}{paths[index % len(paths)]}", timeout=30
        ) as r:
            r.read()
            assert r.status == 200
        return (time.perf_counter() - started) * 1000

    for index in range(min(20, requests)):  # warm up workers, connections, caches
        one(index)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        timings = list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(timings, n=20)[-1]
    return requests / elapsed, statistics.median(timings), p95


def main() -> None:
    parser = argparse.ArgumentParser(description="Storefront speed under gunicorn.")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--only", choices=["search"], default=None)
    args = parser.parse_args()

    prepare_database(args.products)
    rng = random.Random(7)  # noqa: S311
    pages = {
        "minimal (robots.txt)": ["/robots.txt"],
        "home": ["/"],
        "category": [f"/categories/category-{i}/" for i in range(20)],
        "category, filtered": [
            f"/categories/category-{i}/?max=80&sort=price-asc" for i in range(20)
        ],
        "product": [f"/products/p-{rng.randrange(args.products)}/" for _ in range(200)],
        "search": [
            f"/search/?q={quote(w)}"
            for w in ("lamp", "oak chair", "linen", "stonware", "brass kettle", "wool blanket")
        ],
    }
    if args.only == "search":
        pages = {"search": pages["search"]}
    server = start_server(args.workers)
    try:
        print(
            f"\n{args.products} products, gunicorn {args.workers} workers, {args.concurrency} clients"
        )
        print(f"{'page':<22}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}")
        for name, paths in pages.items():
            rps, p50, p95 = measure(paths, requests=args.requests, concurrency=args.concurrency)
            print(f"{name:<22}{rps:>8.0f}{p50:>9.1f}{p95:>9.1f}")
        # Server time alone, one request at a time (no client contention on 2 cores).
        print("\none client at a time (server time):")
        for name in ("minimal (robots.txt)", "product", "search"):
            if name in pages:
                rps, p50, p95 = measure(pages[name], requests=args.requests // 2, concurrency=1)
                print(f"{name:<22}{rps:>8.0f}{p50:>9.1f}{p95:>9.1f}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
