"""Indexes on other apps' tables that the daily rollup reads by time (analytics owns the
reason they exist, so they live here; IF NOT EXISTS on both PostgreSQL and SQLite)."""

from django.db import migrations

INDEXES = {
    "analytics_cartline_added": ("orders_cartline", "added_at"),
    "analytics_cart_checkout": ("orders_cart", "checkout_started_at"),
    "analytics_refund_created": ("orders_refund", "created_at"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_visits_kpis"),
        ("orders", "0002_orders_payments"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, (table, column) in INDEXES.items()
    ]
