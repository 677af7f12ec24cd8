"""Stripe webhooks: verify, store once, apply later.

The view verifies the signature and stores the event under its unique id (a redelivery
finds the row and stops there), then answers 200 at once; a Celery task enqueued on
commit applies it. Applying only moves things forward (payments by rank, refunds from
pending, disputes until closed), so events arriving in any order end in the same state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.disputes import STRIPE_STATUS, dispute_record
from orders.models import Payment, Refund, WebhookEvent
from orders.payments.stripe_provider import REFUND_STATUS, from_minor_units
from orders.refunds import refund_status_set
from orders.services import payment_status_set

# Stripe's default: a signature older than five minutes is a replay.
TOLERANCE_SECONDS = 300


class WebhookError(Exception):
    """A webhook we refuse (bad signature, not an event); the message says why."""


def stripe_signature_verify(
    *, payload: bytes, header: str, secret: str, now: float | None = None
) -> None:
    """Check a Stripe-Signature header ("t=<unix>,v1=<hex>[,v1=...]"): an HMAC-SHA256 of
    "<t>.<payload>" with the endpoint's secret, at most TOLERANCE_SECONDS old."""
    if not header:
        raise WebhookError("Missing Stripe-Signature header.")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    # Only hex can match: anything else (non-ASCII included) is a bad signature, not a
    # crash in compare_digest.
    signatures = [
        value.strip()
        for key, value in parts
        if key.strip() == "v1" and value.strip().isascii() and value.strip().isalnum()
    ]
    try:
        timestamp = int(timestamps[0])
    except (IndexError, ValueError):
        raise WebhookError("The signature has no timestamp.") from None
    if not signatures:
        raise WebhookError("The signature has no v1 value.")
    signed = f"{timestamp}.".encode() + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookError("The signature does not match the payload.")
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise WebhookError("The signature is too old (or from the future).")


def stripe_event_parse(payload: bytes) -> dict:
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise WebhookError("The body is not JSON.") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance((event.get("data") or {}).get("object"), dict)
    ):
        raise WebhookError("The body is not a Stripe event.")
    return event


def webhook_event_record(*, provider: str, event: dict) -> tuple[WebhookEvent, bool]:
    """Store an event once by its id; a new one is applied by a task after commit.
    Returns (event row, whether it was new)."""
    from orders.tasks import webhook_event_apply_task

    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                provider=provider, event_id=event["id"], type=event["type"], payload=event
            )
    except IntegrityError:
        row = WebhookEvent.objects.get(provider=provider, event_id=event["id"])
        if row.processed_at is None:
            # Stored before, never applied (its task was lost with the broker, or ran out
            # of retries): the redelivery queues it again; applying is idempotent.
            row_id = row.pk
            transaction.on_commit(lambda: webhook_event_apply_task.delay(row_id))
        return row, False
    row_id = row.pk
    transaction.on_commit(lambda: webhook_event_apply_task.delay(row_id))
    return row, True


@transaction.atomic
def webhook_event_apply(*, event_id: int) -> WebhookEvent:
    """Apply a stored event (by the WebhookEvent's primary key) once, marking it processed.
    The row lock keeps two workers from applying it together. An event about something
    we do not know is marked processed with the reason in `error`."""
    row = WebhookEvent.objects.select_for_update().get(pk=event_id)
    if row.processed_at is not None:
        return row
    handler = HANDLERS.get(row.type)
    error = ""
    if handler is not None:
        error = handler(row.payload["data"]["object"]) or ""
    row.processed_at = timezone.now()
    row.error = error[:300]
    row.save(update_fields=["processed_at", "error"])
    return row


def webhook_events_apply_pending(*, older_than_seconds: int = 60, limit: int = 1000) -> int:
    """Apply stored events that no worker applied (a lost task, a worker that was down),
    oldest first; fresh ones are left to their own task. Returns how many were applied.
    Run by beat every 5 minutes and by `apply_webhook_events`."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lte=cutoff)
    ids = list(pending.order_by("received_at", "pk").values_list("pk", flat=True)[:limit])
    for event_id in ids:
        webhook_event_apply(event_id=event_id)
    return len(ids)


# --- Handlers: each takes the event's data.object, returns an error message or "" ------------


def _payment_for_intent(intent_id: str, metadata: dict | None) -> Payment | None:
    if not intent_id:
        return None
    payment = Payment.objects.filter(provider="stripe", reference=intent_id).first()
    if payment is not None:
        return payment
    # The event can beat the request that created the intent to saving its id.
    payment_id = str((metadata or {}).get("payment_id", ""))
    if not payment_id.isdigit():
        return None
    payment = Payment.objects.filter(
        pk=int(payment_id),
        provider="stripe",
        reference="",
        order__number=(metadata or {}).get("order_number"),
    ).first()
    if payment is not None:
        payment.reference = intent_id
        payment.save(update_fields=["reference"])
    return payment


def _risk_level(intent: dict) -> str:
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        charges = (intent.get("charges") or {}).get("data") or []
        charge = charges[-1] if charges else {}
    return str((charge.get("outcome") or {}).get("risk_level") or "")


def _intent_status(status: str):
    def handle(intent: dict) -> str:
        payment = _payment_for_intent(intent.get("id", ""), intent.get("metadata"))
        if payment is None:
            return f"No Stripe payment with reference {intent.get('id')!r}."
        failure = ""
        if status == Payment.Status.FAILED:
            failure = (intent.get("last_payment_error") or {}).get(
                "message"
            ) or "The payment failed."
        payment_status_set(
            payment=payment,
            status=status,
            failure_message=failure,
            risk_level=_risk_level(intent) if status == Payment.Status.SUCCEEDED else "",
        )
        return ""

    return handle


def _refund_apply(data: dict) -> str:
    """A refund, made by us (found by reference, or by the id in its metadata when the
    event beat our save) or in Stripe's dashboard (recorded here, once)."""
    reference = data.get("id", "")
    status = REFUND_STATUS.get(data.get("status") or "", Refund.Status.PENDING)
    failure = str(data.get("failure_reason") or "")
    if not reference:
        return "A refund without an id."
    refund = Refund.objects.filter(reference=reference).first()
    if refund is None:
        refund_id = str((data.get("metadata") or {}).get("refund_id", ""))
        if refund_id.isdigit():
            refund = Refund.objects.filter(
                pk=int(refund_id), reference="", payment__provider="stripe"
            ).first()
            if refund is not None:
                refund.reference = reference
                refund.save(update_fields=["reference"])
    if refund is None:
        payment = _payment_for_intent(data.get("payment_intent") or "", None)
        if payment is None:
            return f"No Stripe payment for refund {reference!r}."
        if status == Refund.Status.FAILED:
            return ""  # a refund that never happened elsewhere: nothing to record
        amount = from_minor_units(int(data.get("amount") or 0), payment.currency)
        if amount <= 0 or amount > payment.amount - payment.amount_refunded:
            # Our books say less is left (a lost dispute counted already?): a person looks.
            return f"Refund {reference!r} of {amount} exceeds what is left on the payment."
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    order_id=payment.order_id,
                    payment=payment,
                    amount=amount,
                    currency=payment.currency,
                    reason="Refunded in Stripe's dashboard",
                    reference=reference,
                    idempotency_key=f"stripe-{reference}",
                )
        except IntegrityError:
            refund = Refund.objects.get(reference=reference)
    refund_status_set(refund=refund, status=status, failure_message=failure)
    return ""


def _charge_refunded(charge: dict) -> str:
    # Older API versions list the refunds on the charge; newer ones send refund.* events.
    refunds = (charge.get("refunds") or {}).get("data") or []
    errors = [_refund_apply(refund) for refund in refunds]
    return "; ".join(error for error in errors if error)


def _dispute(data: dict) -> str:
    if not data.get("id"):
        return "A dispute without an id."
    payment = _payment_for_intent(data.get("payment_intent") or "", None)
    if payment is None:
        return f"No Stripe payment for dispute {data.get('id')!r}."
    due = (data.get("evidence_details") or {}).get("due_by")
    dispute_record(
        payment=payment,
        reference=data["id"],
        status=STRIPE_STATUS.get(data.get("status", ""), "needs_response"),
        amount=from_minor_units(int(data.get("amount") or 0), data.get("currency") or "eur"),
        currency=(data.get("currency") or payment.currency).upper(),
        reason=str(data.get("reason") or ""),
        evidence_due_by=datetime.fromtimestamp(int(due), tz=UTC) if due else None,
    )
    return ""


HANDLERS = {
    "payment_intent.succeeded": _intent_status(Payment.Status.SUCCEEDED),
    "payment_intent.payment_failed": _intent_status(Payment.Status.FAILED),
    "payment_intent.processing": _intent_status(Payment.Status.PROCESSING),
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_apply,
    "refund.updated": _refund_apply,
    "charge.refund.updated": _refund_apply,
    "charge.dispute.created": _dispute,
    "charge.dispute.updated": _dispute,
    "charge.dispute.closed": _dispute,
}
