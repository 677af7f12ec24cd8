"""A local fake of the part of Stripe's HTTP API the store uses, for tests (no network).

A real HTTP server on 127.0.0.1 (random port, own thread) that speaks like Stripe: form
encoded bodies with nested keys (`metadata[order_number]=1042`), JSON answers with an
`object` field, `Authorization: Bearer <secret key>` checked, errors in Stripe's
`{"error": {...}}` shape, and `Idempotency-Key` honoured (same key and same parameters:
the same object again; same key, other parameters: an idempotency error).

Implemented: POST /v1/payment_intents, GET and POST /v1/payment_intents/{id},
POST /v1/payment_intents/{id}/cancel,
POST /v1/refunds, GET /v1/refunds/{id}.

Switches for tests:
- `slow_calls = n`: the next n calls do their work and record it, then sleep past the
  client's timeout before answering, so the client sees a timeout although the object
  exists (what makes a retry without an idempotency key dangerous).
- `next_error = (http_status, type, code, message)`: the next call fails like Stripe.
- `refund_status = "pending"`: status of the refunds created from now on.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

SECRET_KEY = "sk_test_fake_store"
PUBLISHABLE_KEY = "pk_test_fake_store"
WEBHOOK_SECRET = "whsec_fake_store"


def _unflatten(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding back to a dict: a[b][c]=1 -> {"a": {"b": {"c": "1"}}}."""
    result: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


@dataclass
class Call:
    method: str
    path: str
    params: dict
    idempotency_key: str | None


@dataclass
class FakeStripe:
    secret_key: str = SECRET_KEY
    # How long a "slow" call sleeps: longer than the client's timeout.
    slow_seconds: float = 2.5
    slow_calls: int = 0
    next_error: tuple[int, str, str, str] | None = None
    refund_status: str = "succeeded"
    payment_intents: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _idempotent: dict[str, tuple[str, dict, int, dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what tests use besides HTTP ---------------------------------------------------------

    def succeed(self, intent_id: str) -> dict:
        """The shopper paid: the PaymentIntent succeeded (as Stripe.js confirming it would)."""
        intent = self.payment_intents[intent_id]
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        intent["latest_charge"] = "ch_" + intent_id[3:]
        return intent

    def creations(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.method == "POST" and call.path == path]

    # --- the API --------------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict]:
        with self._lock:
            self.calls.append(Call(method, path, params, key))
            if self.next_error is not None:
                status, kind, code, message = self.next_error
                self.next_error = None
                return status, {"error": {"type": kind, "code": code, "message": message}}
            if method == "POST" and key:
                seen = self._idempotent.get(key)
                if seen is not None:
                    seen_path, seen_params, status, body = seen
                    if (seen_path, seen_params) != (path, params):
                        return 400, _error(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                        )
                    return status, body
            status, body = self._route(method, path, params)
            if method == "POST" and key:
                self._idempotent[key] = (path, params, status, body)
            return status, body

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if path == "/v1/payment_intents" and method == "POST":
            return self._intent_create(params)
        match = re.fullmatch(r"/v1/payment_intents/(pi_\w+)/cancel", path)
        if match and method == "POST":
            intent = self.payment_intents.get(match[1])
            if intent is None:
                return 404, _error("invalid_request_error", f"No such payment_intent: '{match[1]}'")
            if intent["status"] in ("succeeded", "processing", "canceled"):
                return 400, _error(
                    "invalid_request_error",
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}.",
                    code="payment_intent_unexpected_state",
                )
            intent["status"] = "canceled"
            intent["cancellation_reason"] = params.get("cancellation_reason")
            return 200, intent
        match = re.fullmatch(r"/v1/payment_intents/(pi_\w+)", path)
        if match:
            intent = self.payment_intents.get(match[1])
            if intent is None:
                return 404, _error("invalid_request_error", f"No such payment_intent: '{match[1]}'")
            if method == "POST":
                for name in ("amount", "currency", "description", "receipt_email"):
                    if name in params:
                        intent[name] = int(params[name]) if name == "amount" else params[name]
                intent["metadata"].update(params.get("metadata", {}))
            return 200, intent
        if path == "/v1/refunds" and method == "POST":
            return self._refund_create(params)
        match = re.fullmatch(r"/v1/refunds/(re_\w+)", path)
        if match and method == "GET" and match[1] in self.refunds:
            return 200, self.refunds[match[1]]
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path})")

    def _intent_create(self, params: dict) -> tuple[int, dict]:
        try:
            amount = int(params["amount"])
            currency = params["currency"]
        except (KeyError, ValueError):
            return 400, _error("invalid_request_error", "Missing required param: amount.")
        if amount < 1:
            return 400, _error("invalid_request_error", "Amount must be at least 1.")
        intent_id = "pi_" + secrets.token_hex(12)
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "automatic_payment_methods": {
                "enabled": params.get("automatic_payment_methods", {}).get("enabled") == "true"
            },
            "metadata": params.get("metadata", {}),
            "description": params.get("description"),
            "receipt_email": params.get("receipt_email"),
            "latest_charge": None,
            "livemode": False,
            "created": int(time.time()),
        }
        self.payment_intents[intent_id] = intent
        return 200, intent

    def _refund_create(self, params: dict) -> tuple[int, dict]:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 404, _error("invalid_request_error", "No such payment_intent.")
        if intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error",
                "This PaymentIntent does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        refunded = sum(
            refund["amount"]
            for refund in self.refunds.values()
            if refund["payment_intent"] == intent["id"] and refund["status"] != "failed"
        )
        amount = int(params.get("amount", intent["amount"] - refunded))
        if amount > intent["amount"] - refunded:
            return 400, _error(
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({intent['amount'] - refunded})",
                code="amount_too_large",
            )
        refund_id = "re_" + secrets.token_hex(12)
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": self.refund_status,
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.refunds[refund_id] = refund
        return 200, refund


def _error(kind: str, message: str, code: str | None = None) -> dict:
    return {"error": {"type": kind, "code": code, "message": message}}


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            if self.headers.get("Authorization") != f"Bearer {fake.secret_key}":
                self._reply(401, _error("invalid_request_error", "Invalid API Key provided."))
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            params = _unflatten(parse_qsl(body or query, keep_blank_values=True))
            status, answer = fake.handle(method, path, params, self.headers.get("Idempotency-Key"))
            with fake._lock:
                slow = fake.slow_calls > 0
                fake.slow_calls -= 1 if slow else 0
            if slow:
                # The work is done and recorded; the client gives up before the answer.
                time.sleep(fake.slow_seconds)
            self._reply(status, answer)

        def _reply(self, status: int, answer: dict) -> None:
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def fake_stripe_start() -> FakeStripe:
    fake = FakeStripe()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.server.daemon_threads = True
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake


@pytest.fixture(name="stripe_fake")
def stripe_fake_fixture(settings) -> Iterator[FakeStripe]:
    """Stripe configured and pointed at a fresh local fake; a 1-second client timeout."""
    fake = fake_stripe_start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    yield fake
    assert fake.server is not None
    fake.server.shutdown()
    fake.server.server_close()
