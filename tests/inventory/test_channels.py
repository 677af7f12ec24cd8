from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command

from inventory.channels import (
    DeliveryFailed,
    channel_create,
    webhook_deliver,
    webhook_give_up,
    webhooks_queue,
)
from inventory.models import WebhookDelivery
from inventory.services import stock_adjust
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server on loopback that records requests and answers with `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def mug():
    variant = VariantFactory(sku="MUG-1")
    stock(variant, WarehouseFactory(code="main"), 5)
    return variant


def test_the_feed_needs_a_valid_token(client, mug):
    _, token = channel_create(name="Marketplace")
    assert client.get("/api/stock/").status_code == 401
    assert client.get("/api/stock/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/api/stock/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert {"sku": "MUG-1", "available": 5} in response.json()["items"]


def test_a_stock_change_sends_a_signed_webhook(mug, receiver, django_capture_on_commit_callbacks):
    channel, _ = channel_create(name="POS", webhook_url=receiver.url)
    # One capture runs the tasks queued on commit and, in turn, the sends they queue.
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(
            variant_id=mug.pk,
            warehouse=mug.stock.get().warehouse,
            delta=-2,
            reason="damage",
            note="dropped",
        )
    [(headers, body)] = receiver.requests
    stamp, signed = (part.split("=", 1)[1] for part in headers["X-Store-Signature"].split(","))
    expected = hmac.new(
        channel.webhook_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
    )
    assert hmac.compare_digest(signed, expected.hexdigest())
    payload = json.loads(body)
    assert payload["type"] == "stock.changed"
    assert payload["items"] == [{"sku": "MUG-1", "available": 3}]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_refused_delivery_is_logged_retried_and_finally_failed(mug):
    failing = Receiver(status=500)
    try:
        channel_create(name="POS", webhook_url=failing.url)
        [delivery] = webhooks_queue(variant_ids=[mug.pk])
        for _ in range(2):
            with pytest.raises(DeliveryFailed, match="HTTP 500"):
                webhook_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 2)
        webhook_give_up(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "failed"
    finally:
        failing.close()


def test_a_delivered_webhook_is_not_sent_again(mug, receiver):
    channel_create(name="POS", webhook_url=receiver.url)
    [delivery] = webhooks_queue(variant_ids=[mug.pk])
    webhook_deliver(delivery_id=delivery.pk)
    webhook_deliver(delivery_id=delivery.pk)  # a redelivered task message
    assert len(receiver.requests) == 1


def test_create_channel_prints_the_token_once(capsys):
    call_command("create_channel", "Marketplace", "--webhook-url", "https://example.com/hook")
    out = capsys.readouterr().out
    assert "Authorization: Bearer " in out
    assert "Webhook signing secret: " in out


def test_the_delivery_log_page(client, roles, staff_login, mug, receiver):
    channel_create(name="POS", webhook_url=receiver.url)
    [delivery] = webhooks_queue(variant_ids=[mug.pk])
    webhook_deliver(delivery_id=delivery.pk)
    staff_login(StaffFactory(role="Warehouse"))
    page = client.get("/dashboard/inventory/channels/").text
    assert "POS" in page
    assert "HTTP 200" in page


def test_sales_from_another_channel_go_through_the_ledger_all_or_nothing(mug, tmp_path):
    from django.core.management import CommandError

    from inventory.models import StockLevel, StockMovement

    channel, _ = channel_create(name="Marketplace")
    good = tmp_path / "sales.csv"
    good.write_text("sku,quantity,reference\nmug-1,2,M-100\nMUG-1,1,M-101\n")
    call_command("import_channel_sales", "marketplace", str(good))
    assert StockLevel.objects.get(variant=mug).on_hand == 2
    sales = StockMovement.objects.filter(reason="sale").order_by("pk")
    assert list(sales.values_list("delta", "reference")) == [
        (-2, f"channel:{channel.pk}:M-100"),
        (-1, f"channel:{channel.pk}:M-101"),
    ]
    call_command("import_channel_sales", "marketplace", str(good))  # the same file again
    assert StockLevel.objects.get(variant=mug).on_hand == 2  # already recorded: skipped
    short = tmp_path / "short.csv"
    short.write_text("sku,quantity,reference\nMUG-1,1,M-102\nMUG-1,5,M-103\n")
    with pytest.raises(CommandError, match="nothing was recorded"):
        call_command("import_channel_sales", "marketplace", str(short))
    assert StockLevel.objects.get(variant=mug).on_hand == 2  # M-102 rolled back too
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,quantity,reference\nNOPE,x,\n")
    with pytest.raises(CommandError, match="3 errors"):
        call_command("import_channel_sales", "marketplace", str(bad))


def test_ragged_rows_and_odd_digits_are_reported_not_a_crash(mug):
    from inventory.channels import channel_sales_import

    channel, _ = channel_create(name="Marketplace")
    rows, errors = channel_sales_import(
        channel=channel, data="sku,quantity,reference\nMUG-1,²,M-1,extra,cells\n".encode()
    )
    assert rows == 0
    assert errors == ["line 2: quantity '²' is not a whole number above 0."]


def test_a_redelivered_fan_out_makes_no_second_event(mug, receiver):
    channel_create(name="POS", webhook_url=receiver.url)
    first = webhooks_queue(variant_ids=[mug.pk], event_key="task-1")
    again = webhooks_queue(variant_ids=[mug.pk], event_key="task-1")
    assert len(first) == 1
    assert again == []
    assert WebhookDelivery.objects.count() == 1


def test_a_redirect_is_a_failed_delivery_not_followed(mug):

    bouncer = Receiver(status=302)
    try:
        channel_create(name="POS", webhook_url=bouncer.url)
        [delivery] = webhooks_queue(variant_ids=[mug.pk])
        with pytest.raises(DeliveryFailed, match="302"):
            webhook_deliver(delivery_id=delivery.pk)
        assert len(bouncer.requests) == 1
    finally:
        bouncer.close()


def test_every_channel_gets_a_signing_secret():
    channel, _ = channel_create(name="Feed only")
    assert len(channel.webhook_secret) == 64
