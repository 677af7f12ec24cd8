"""Other sales channels: a token-authenticated feed of availability, and signed webhooks
when availability changes.

Webhook requests carry `X-Store-Signature: t=<unix time>,v1=<hex>`, where v1 is the
HMAC-SHA256, keyed with the channel's secret, of "<t>.<body>" (the scheme Stripe uses), so
a receiver can check both who sent it and that it is fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Variant
from inventory.models import SalesChannel, WebhookDelivery
from inventory.selectors import availability
from inventory.services import InventoryError

TIMEOUT_SECONDS = 10


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def channel_create(*, name: str, webhook_url: str = "") -> tuple[SalesChannel, str]:
    """A channel and its feed token (returned once; only its hash is kept)."""
    name = name.strip()
    if not name:
        raise InventoryError("A channel needs a name.")
    if SalesChannel.objects.filter(name__iexact=name).exists():
        raise InventoryError(f"There is a channel called {name} already.")
    if webhook_url and not webhook_url.startswith(("https://", "http://")):
        raise InventoryError("The webhook address must start with https://.")
    token = secrets.token_urlsafe(32)
    channel = SalesChannel.objects.create(
        name=name,
        token_hash=token_hash(token),
        webhook_url=webhook_url,
        webhook_secret=secrets.token_hex(32),
    )
    return channel, token


def channel_for_token(token: str) -> SalesChannel | None:
    if not token:
        return None
    return SalesChannel.objects.filter(token_hash=token_hash(token), is_active=True).first()


def feed_items(*, variant_ids: list[int] | None = None) -> list[dict[str, object]]:
    """[{"sku", "available"}] for tracked variants of active products, two queries + one."""
    variants = Variant.objects.filter(product__status="active", track_inventory=True)
    if variant_ids is not None:
        variants = variants.filter(pk__in=variant_ids)
    skus = dict(variants.values_list("pk", "sku"))
    free = availability(variant_ids=list(skus))
    return [{"sku": skus[pk], "available": free[pk]} for pk in sorted(skus, key=skus.get)]


def webhooks_queue(*, variant_ids: list[int], event_key: str = "") -> list[WebhookDelivery]:
    """One delivery per channel with a webhook, each sent by a worker after commit.

    `event_key` (the task's id) makes the event ids deterministic: a redelivered task finds
    its deliveries made and makes no second set, and receivers can de-duplicate by id.
    """
    channels = list(SalesChannel.objects.filter(is_active=True).exclude(webhook_url=""))
    if not channels:
        return []
    items = feed_items(variant_ids=variant_ids)
    if not items:
        return []
    deliveries = []
    key = event_key or uuid.uuid4().hex
    for channel in channels:
        event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"stock.changed:{channel.pk}:{key}")
        payload = {"id": str(event_id), "type": "stock.changed", "items": items}
        delivery, created = WebhookDelivery.objects.get_or_create(
            event_id=event_id, defaults={"channel": channel, "payload": payload}
        )
        if created:
            deliveries.append(delivery)

    def send() -> None:
        from inventory.tasks import webhook_deliver_task  # the task module imports this one

        for delivery in deliveries:
            webhook_deliver_task.delay(delivery.pk)

    transaction.on_commit(send)
    return deliveries


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answer of 3xx is a failure: following it could send the worker anywhere."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class DeliveryFailed(Exception):
    """The receiver did not take the webhook; Celery retries with backoff."""


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST one delivery; True when delivered (or already was). Raises DeliveryFailed for a
    retry; every attempt is logged on the delivery."""
    delivery = WebhookDelivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == WebhookDelivery.Status.DELIVERED:
        return True
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    stamp = int(time.time())
    signed = signature(delivery.channel.webhook_secret, stamp, body)
    request = urllib.request.Request(  # noqa: S310 - the merchant configured this https URL
        delivery.channel.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "store-webhooks/1",
            "X-Store-Event": delivery.payload.get("type", ""),
            "X-Store-Signature": f"t={stamp},v1={signed}",
        },
    )
    code, error = None, ""
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            code = response.status
    except urllib.error.HTTPError as err:
        code, error = err.code, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        # The kind of failure only: raw socket errors can name internal hosts.
        error = type(getattr(err, "reason", err)).__name__
    ok = code is not None and 200 <= code < 300
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1,
        last_status_code=code,
        last_error=error,
        status=WebhookDelivery.Status.DELIVERED if ok else WebhookDelivery.Status.PENDING,
        delivered_at=timezone.now() if ok else None,
    )
    if not ok:
        raise DeliveryFailed(error or f"HTTP {code}")
    return True


def webhook_give_up(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(
        status=WebhookDelivery.Status.DELIVERED
    ).update(status=WebhookDelivery.Status.FAILED)


def channel_sales_import(*, channel: SalesChannel, data: bytes) -> tuple[int, list[str]]:
    """Sales made on `channel`, as CSV (sku, quantity, reference): checked whole, then each
    allocated and shipped through the stock services in one transaction, so the ledger says
    "sale" with the channel's order as reference. Returns (rows, errors); with any error
    nothing changes."""
    import csv
    import io

    from django.db.models.functions import Lower

    from inventory.models import StockMovement
    from inventory.services import InsufficientStock, lock_stock, stock_allocate, stock_ship

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return 0, ["The file is not UTF-8 text; save it as CSV UTF-8."]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if sorted(header) != ["quantity", "reference", "sku"]:
        return 0, ["line 1: the columns must be sku, quantity, reference."]
    reader.fieldnames = header
    # A ragged row puts its extra cells under the key None: ignored, like empty cells.
    rows = [
        (reader.line_num, {k: (v or "").strip() for k, v in r.items() if isinstance(k, str)})
        for r in reader
    ]
    skus = {r["sku"].lower() for _, r in rows}
    variants = dict(
        Variant.objects.annotate(low=Lower("sku")).filter(low__in=skus).values_list("low", "pk")
    )
    errors, orders = [], {}
    for line, row in rows:
        if row["sku"].lower() not in variants:
            errors.append(f"line {line}: no variant has the SKU {row['sku']!r}.")
        quantity = row["quantity"]
        if not (quantity.isascii() and quantity.isdigit()) or not 0 < int(quantity) <= 1_000_000:
            errors.append(
                f"line {line}: quantity {row['quantity']!r} is not a whole number above 0."
            )
        if not row["reference"]:
            errors.append(f"line {line}: reference (the channel's order number) is empty.")
        if not errors:
            lines = orders.setdefault(row["reference"], {"line": line, "lines": {}})["lines"]
            pk = variants[row["sku"].lower()]
            lines[pk] = lines.get(pk, 0) + int(row["quantity"])
    if errors:
        return 0, errors
    recorded = 0
    try:
        with transaction.atomic():
            lock_stock(pk for order in orders.values() for pk in order["lines"])
            for reference, order in orders.items():
                key = f"channel:{channel.pk}:{reference}"
                if len(key) > 60:
                    raise InventoryError(f"line {order['line']}: the reference is too long.")
                # Sales already recorded (the same file again, a retried run) are skipped.
                if StockMovement.objects.filter(reason="sale", reference=key).exists():
                    continue
                recorded += len(order["lines"])
                try:
                    stock_allocate(reference=key, lines=order["lines"])
                except InsufficientStock as err:
                    raise InventoryError(f"line {order['line']}: {err}") from None
                stock_ship(reference=key)
    except InventoryError as err:
        return 0, [str(err)]
    return recorded, []
