"""Indexes for the dashboard's search on PostgreSQL: a prefix of the email or of the name on
the order (case-insensitive). `text_pattern_ops` lets LIKE 'abc%' use a btree whatever the
database's collation; Django cannot declare an operator class on an expression index.
SQLite has no operator classes; there the search scans, which is fine at its sizes.
"""

from django.db import migrations

from config.db import postgres_only

FORWARD = [
    "CREATE INDEX IF NOT EXISTS order_email_prefix ON orders_order "
    "(lower(email) text_pattern_ops, created_at DESC)",
    "CREATE INDEX IF NOT EXISTS order_name_prefix ON orders_order "
    "(lower(shipping_address ->> 'full_name') text_pattern_ops, created_at DESC)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS order_name_prefix",
    "DROP INDEX IF EXISTS order_email_prefix",
]


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_orders_payments")]

    operations = [postgres_only(FORWARD, BACKWARD)]
