"""Stripe webhook events for tests, shaped like Stripe's and signed locally."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from tests.fakes.stripe_server import WEBHOOK_SECRET

WEBHOOK_URL = "/webhooks/stripe/"


def event(kind: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "livemode": False,
        "type": kind,
        "data": {"object": obj},
    }


def signature(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for `body`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def deliver(client, payload: dict, **signing):
    """POST an event to the webhook endpoint as Stripe does, signed."""
    body = json.dumps(payload).encode()
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": signature(body, **signing)},
    )


def intent(
    reference: str,
    *,
    status: str = "succeeded",
    amount: int = 1000,
    error: str | None = None,
    risk_level: str | None = None,
    metadata: dict | None = None,
) -> dict:
    obj = {
        "id": reference,
        "object": "payment_intent",
        "amount": amount,
        "currency": "eur",
        "status": status,
        "metadata": metadata or {},
        "last_payment_error": {"type": "card_error", "message": error} if error else None,
        "latest_charge": None,
    }
    if risk_level:
        obj["latest_charge"] = {
            "id": "ch_" + reference[3:],
            "object": "charge",
            "outcome": {"risk_level": risk_level, "type": "authorized"},
        }
    return obj


def refund(
    reference: str,
    payment_intent: str,
    *,
    amount: int,
    status: str = "succeeded",
    metadata: dict | None = None,
) -> dict:
    return {
        "id": reference,
        "object": "refund",
        "amount": amount,
        "currency": "eur",
        "payment_intent": payment_intent,
        "status": status,
        "metadata": metadata or {},
    }


def dispute(
    reference: str,
    payment_intent: str,
    *,
    amount: int,
    status: str = "needs_response",
    reason: str = "fraudulent",
    due_by: int | None = None,
) -> dict:
    return {
        "id": reference,
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "payment_intent": payment_intent,
        "charge": "ch_" + payment_intent[3:],
        "reason": reason,
        "status": status,
        "evidence_details": {"due_by": due_by, "has_evidence": False},
    }
