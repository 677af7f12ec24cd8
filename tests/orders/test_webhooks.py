"""Stripe webhooks: signatures, storing once, applying forward only, in any order."""

from __future__ import annotations

import itertools
import json
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from orders.models import Order, OrderEmail, OrderEvent, Payment, Refund, WebhookEvent
from orders.refunds import refund_create
from orders.services import payment_status_set
from orders.webhooks import webhook_event_apply
from tests.fakes import stripe_events as ev
from tests.fakes.stripe_orders import stripe_order_fixture, stripe_order_place  # noqa: F401
from tests.fakes.stripe_server import stripe_fake_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _pi(order: Order) -> str:
    return order.payments.get().reference


def _cents(order: Order) -> int:
    return int(order.total * 100)


def _payment_events(order: Order) -> list[str]:
    return list(order.events.filter(kind=OrderEvent.Kind.PAYMENT).values_list("message", flat=True))


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Deliver events as Stripe does; the tasks enqueued on commit run (eagerly)."""

    def send(payload: dict, **signing):
        with django_capture_on_commit_callbacks(execute=True):
            return ev.deliver(client, payload, **signing)

    return send


# --- Signatures ------------------------------------------------------------------------------


def _post(client, body: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(ev.WEBHOOK_URL, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "case",
    ["forged", "tampered", "stale", "future", "missing", "garbled", "no_v1", "other_scheme"],
)
def test_a_bad_signature_is_refused_with_400_and_nothing_is_stored(
    client, stripe_order, django_capture_on_commit_callbacks, case
):
    payload = ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order)))
    body = json.dumps(payload).encode()
    now = int(time.time())
    header = {
        "forged": ev.signature(body, secret="whsec_someone_else"),
        "stale": ev.signature(body, timestamp=now - 301),
        "future": ev.signature(body, timestamp=now + 301),
        "missing": None,
        "garbled": "this is not a signature",
        "no_v1": f"t={now}",
        "other_scheme": ev.signature(body).replace("v1=", "v0="),
    }.get(case, ev.signature(body))
    if case == "tampered":
        body = body.replace(b'"succeeded"', b'"processing"', 1)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, body, header)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    payment = stripe_order.payments.get()
    assert payment.status == Payment.Status.PENDING
    stripe_order.refresh_from_db()
    assert stripe_order.status == Order.Status.PENDING_PAYMENT


def test_a_signature_just_inside_the_tolerance_is_accepted(stripe_order, deliver):
    payload = ev.event("payment_intent.processing", ev.intent(_pi(stripe_order)))
    response = deliver(payload, timestamp=int(time.time()) - 290)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().event_id == payload["id"]


def test_one_of_several_signatures_may_match_during_secret_rotation(client, stripe_order):
    body = json.dumps(ev.event("payment_intent.processing", ev.intent(_pi(stripe_order)))).encode()
    good = ev.signature(body)
    old = ev.signature(body, secret="whsec_old").split(",")[1]
    assert _post(client, body, f"{good},{old}").status_code == 200


def test_a_signed_body_that_is_not_an_event_is_refused(client, stripe_fake):
    for body in (b"not json", b"[1, 2]", json.dumps({"id": "evt_1", "type": "x"}).encode()):
        assert _post(client, body, ev.signature(body)).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_without_a_webhook_secret_the_endpoint_says_it_is_not_configured(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = b"{}"
    assert _post(client, body, ev.signature(body)).status_code == 503


def test_the_endpoint_only_takes_post(client, stripe_fake):
    assert client.get(ev.WEBHOOK_URL).status_code == 405


# --- Payments --------------------------------------------------------------------------------


def test_payment_succeeded_pays_the_order_in_a_task_after_the_response(
    client, stripe_order, django_capture_on_commit_callbacks
):
    payload = ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = ev.deliver(client, payload)

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.provider, stored.event_id, stored.type) == (
        "stripe",
        payload["id"],
        payload["type"],
    )
    assert stored.processed_at is None  # stored and answered; not applied yet
    assert stripe_order.payments.get().status == Payment.Status.PENDING

    for callback in callbacks:
        callback()  # the worker runs the task
    stored.refresh_from_db()
    assert stored.processed_at is not None
    assert stored.error == ""
    stripe_order.refresh_from_db()
    assert stripe_order.status == Order.Status.PAID
    assert stripe_order.payment_status == Order.PaymentStatus.PAID
    assert stripe_order.paid_total == stripe_order.total


def test_the_same_event_delivered_ten_times_has_one_effect(stripe_order, deliver, mailoutbox):
    payload = ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order)))
    responses = [deliver(payload) for _ in range(10)]

    assert [response.status_code for response in responses] == [200] * 10
    assert WebhookEvent.objects.count() == 1
    assert len([m for m in _payment_events(stripe_order) if "succeeded" in m]) == 1
    stripe_order.refresh_from_db()
    assert stripe_order.paid_total == stripe_order.total
    assert [message.to for message in mailoutbox] == [[stripe_order.email]]
    assert (
        OrderEmail.objects.filter(order=stripe_order, key__startswith="payment_received").count()
        == 1
    )


def test_two_events_with_the_same_effect_apply_it_once(stripe_order, deliver, mailoutbox):
    # Stripe can send a second event (another id) about the same success.
    for _ in range(2):
        deliver(ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order))))
    assert WebhookEvent.objects.count() == 2
    stripe_order.refresh_from_db()
    assert stripe_order.paid_total == stripe_order.total
    assert len(mailoutbox) == 1


def test_applying_a_stored_event_again_changes_nothing(stripe_order, deliver):
    deliver(ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order))))
    stored = WebhookEvent.objects.get()
    first = stored.processed_at
    events = stripe_order.events.count()

    assert webhook_event_apply(event_id=stored.pk).processed_at == first
    assert stripe_order.events.count() == events


SEQUENCE = {
    "processing": lambda ref: ev.event(
        "payment_intent.processing", ev.intent(ref, status="processing")
    ),
    "failed": lambda ref: ev.event(
        "payment_intent.payment_failed",
        ev.intent(ref, status="requires_payment_method", error="Your card was declined."),
    ),
    "succeeded": lambda ref: ev.event("payment_intent.succeeded", ev.intent(ref)),
}


@pytest.mark.parametrize("order_of_events", list(itertools.permutations(SEQUENCE)))
def test_events_in_any_order_end_paid(stripe_order, deliver, mailoutbox, order_of_events):
    for name in order_of_events:
        assert deliver(SEQUENCE[name](_pi(stripe_order))).status_code == 200

    payment = stripe_order.payments.get()
    stripe_order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert stripe_order.status == Order.Status.PAID
    assert stripe_order.payment_status == Order.PaymentStatus.PAID
    assert stripe_order.paid_total == stripe_order.total
    assert len(mailoutbox) == 1
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 3


@pytest.mark.parametrize("order_of_events", list(itertools.permutations(["processing", "failed"])))
def test_processing_and_failed_in_any_order_end_failed(stripe_order, deliver, order_of_events):
    for name in order_of_events:
        deliver(SEQUENCE[name](_pi(stripe_order)))

    payment = stripe_order.payments.get()
    stripe_order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_message == "Your card was declined."
    assert stripe_order.status == Order.Status.PENDING_PAYMENT
    assert stripe_order.payment_status == Order.PaymentStatus.FAILED


def test_a_failed_payment_shows_stripes_message_on_the_timeline(stripe_order, deliver):
    deliver(SEQUENCE["failed"](_pi(stripe_order)))
    (message,) = _payment_events(stripe_order)
    assert message.endswith("failed (stripe): Your card was declined.")


def test_a_failure_without_a_message_says_it_failed(stripe_order, deliver):
    deliver(ev.event("payment_intent.payment_failed", ev.intent(_pi(stripe_order), status="x")))
    assert stripe_order.payments.get().failure_message == "The payment failed."


def test_stripes_risk_level_reaches_the_payment_and_the_fraud_check(stripe_order, deliver):
    deliver(
        ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order), risk_level="highest"))
    )

    assert stripe_order.payments.get().risk_level == "highest"
    stripe_order.refresh_from_db()
    assert "stripe_risk" in [reason["rule"] for reason in stripe_order.risk_reasons]
    assert stripe_order.status == Order.Status.ON_HOLD


def test_the_risk_level_is_read_from_an_older_api_versions_charges_list(stripe_order, deliver):
    obj = ev.intent(_pi(stripe_order))
    obj["charges"] = {"data": [{"id": "ch_1", "outcome": {"risk_level": "elevated"}}]}
    deliver(ev.event("payment_intent.succeeded", obj))
    assert stripe_order.payments.get().risk_level == "elevated"


def test_an_event_that_beats_the_saved_reference_finds_the_payment_by_metadata(
    stripe_order, deliver
):
    payment = stripe_order.payments.get()
    reference = payment.reference
    Payment.objects.filter(pk=payment.pk).update(reference="")
    metadata = {"order_number": stripe_order.number, "payment_id": str(payment.pk)}
    deliver(ev.event("payment_intent.succeeded", ev.intent(reference, metadata=metadata)))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.reference == reference


def test_metadata_naming_another_orders_payment_is_not_trusted(stripe_order, deliver):
    payment = stripe_order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(reference="")
    metadata = {"order_number": "999999", "payment_id": str(payment.pk)}
    deliver(ev.event("payment_intent.succeeded", ev.intent("pi_unknown", metadata=metadata)))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert "No Stripe payment" in WebhookEvent.objects.get().error


def test_an_event_about_an_unknown_payment_is_stored_with_the_reason(stripe_fake, deliver):
    response = deliver(ev.event("payment_intent.succeeded", ev.intent("pi_not_ours")))
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is not None
    assert stored.error == "No Stripe payment with reference 'pi_not_ours'."


def test_an_event_type_we_do_not_handle_is_stored_and_marked_processed(stripe_fake, deliver):
    deliver(ev.event("customer.created", {"id": "cus_1", "object": "customer"}))
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is not None
    assert stored.error == ""


# --- Refunds ---------------------------------------------------------------------------------


@pytest.fixture
def paid_order(stripe_fake, stripe_order):
    stripe_fake.succeed(_pi(stripe_order))
    payment_status_set(payment=stripe_order.payments.get(), status=Payment.Status.SUCCEEDED)
    stripe_order.refresh_from_db()
    return stripe_order


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(paid_order, deliver, mailoutbox):
    pi = _pi(paid_order)
    refund_obj = ev.refund("re_dash1", pi, amount=1000)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": pi, "amount_refunded": 1000}
    charge["refunds"] = {"object": "list", "data": [refund_obj]}
    payloads = [
        ev.event("refund.created", refund_obj),
        ev.event("charge.refunded", charge),
        ev.event("refund.updated", refund_obj),
    ]
    for payload in payloads * 3:
        assert deliver(payload).status_code == 200

    refund = Refund.objects.get()
    assert (refund.reference, refund.amount, refund.status) == (
        "re_dash1",
        Decimal("10.00"),
        Refund.Status.SUCCEEDED,
    )
    assert refund.order == paid_order
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == Decimal("10.00")
    assert paid_order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert paid_order.payments.get().amount_refunded == Decimal("10.00")
    assert paid_order.events.filter(kind=OrderEvent.Kind.REFUND).count() == 1
    assert len(mailoutbox) == 1


def test_a_pending_dashboard_refund_counts_when_it_succeeds(paid_order, deliver):
    pi = _pi(paid_order)
    deliver(ev.event("refund.created", ev.refund("re_dash2", pi, amount=500, status="pending")))
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == 0
    assert Refund.objects.get().status == Refund.Status.PENDING

    deliver(ev.event("refund.updated", ev.refund("re_dash2", pi, amount=500)))
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == Decimal("5.00")


def test_a_failed_refund_nobody_here_made_records_nothing(paid_order, deliver):
    deliver(
        ev.event("refund.created", ev.refund("re_x", _pi(paid_order), amount=500, status="failed"))
    )
    assert not Refund.objects.exists()


def test_our_pending_refund_is_completed_by_the_webhook_once(stripe_fake, paid_order, deliver):
    stripe_fake.refund_status = "pending"
    refund = refund_create(order=paid_order, amount=Decimal("7.50"))
    assert refund.status == Refund.Status.PENDING

    update = ev.event("refund.updated", ev.refund(refund.reference, _pi(paid_order), amount=750))
    for _ in range(3):
        deliver(update)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert Refund.objects.count() == 1
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == Decimal("7.50")


def test_our_pending_refund_can_fail_through_the_webhook(stripe_fake, paid_order, deliver):
    stripe_fake.refund_status = "pending"
    refund = refund_create(order=paid_order, amount=Decimal("7.50"))
    failed = ev.refund(refund.reference, _pi(paid_order), amount=750, status="failed")
    failed["failure_reason"] = "expired_or_canceled_card"
    deliver(ev.event("refund.updated", failed))

    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert refund.failure_message == "expired_or_canceled_card"
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == 0


def test_a_webhook_for_our_refund_before_its_id_was_saved_finds_it_by_metadata(
    stripe_fake, paid_order, deliver
):
    stripe_fake.refund_status = "pending"
    refund = refund_create(order=paid_order, amount=Decimal("2.00"))
    reference = refund.reference
    Refund.objects.filter(pk=refund.pk).update(reference="")
    metadata = {"order_number": paid_order.number, "refund_id": str(refund.pk)}
    deliver(
        ev.event(
            "refund.updated", ev.refund(reference, _pi(paid_order), amount=200, metadata=metadata)
        )
    )

    assert Refund.objects.count() == 1
    refund.refresh_from_db()
    assert (refund.reference, refund.status) == (reference, Refund.Status.SUCCEEDED)


def test_the_command_applies_events_no_worker_applied(stripe_order, client):
    payloads = [
        ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order))),
        ev.event("payment_intent.succeeded", ev.intent("pi_not_ours")),
    ]
    for payload in payloads:  # stored; the tasks never ran (no commit in this test)
        ev.deliver(client, payload)
    assert stripe_order.payments.get().status == Payment.Status.PENDING

    out, err = StringIO(), StringIO()
    call_command("apply_webhook_events", stdout=out, stderr=err)

    assert out.getvalue().strip() == "1 events applied, 1 with a problem."
    assert "pi_not_ours" in err.getvalue()
    assert stripe_order.payments.get().status == Payment.Status.SUCCEEDED
    call_command("apply_webhook_events", stdout=out)
    assert out.getvalue().strip().endswith("0 events applied, 0 with a problem.")
    assert len([m for m in _payment_events(stripe_order) if "succeeded" in m]) == 1


def test_a_cancelled_card_attempt_that_succeeds_late_is_still_recorded(stripe_order, deliver):
    # The shopper switched to bank transfer, then paid in the card form of an old tab.
    card = stripe_order.payments.get()
    Payment.objects.filter(pk=card.pk).update(status=Payment.Status.CANCELLED)

    deliver(ev.event("payment_intent.succeeded", ev.intent(card.reference)))

    card.refresh_from_db()
    assert card.status == Payment.Status.SUCCEEDED
    stripe_order.refresh_from_db()
    assert stripe_order.status == Order.Status.PAID
    assert stripe_order.paid_total == stripe_order.total


def test_a_second_payment_for_a_paid_order_is_recorded_and_flagged(stripe_order, deliver):
    card = stripe_order.payments.get()
    Payment.objects.filter(pk=card.pk).update(status=Payment.Status.CANCELLED)
    other = Payment.objects.create(
        order=stripe_order, provider="bank_transfer", amount=stripe_order.total, currency="EUR"
    )
    payment_status_set(payment=other, status=Payment.Status.SUCCEEDED)

    deliver(ev.event("payment_intent.succeeded", ev.intent(card.reference)))

    stripe_order.refresh_from_db()
    assert stripe_order.paid_total == 2 * stripe_order.total
    assert stripe_order.events.filter(
        message=f"Paid {stripe_order.total} EUR more than the total (two payments): "
        "refund the difference."
    ).exists()


def test_a_dashboard_refund_above_what_is_left_is_not_recorded_but_reported(paid_order, deliver):
    too_much = int(paid_order.total * 100) + 1
    deliver(ev.event("refund.created", ev.refund("re_big", _pi(paid_order), amount=too_much)))

    assert not Refund.objects.exists()
    assert "exceeds what is left" in WebhookEvent.objects.get().error
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == 0


def test_an_event_without_a_payment_intent_matches_no_payment(stripe_fake, deliver):
    # A payment without a reference yet must not be taken for it.
    order = stripe_order_place()
    Payment.objects.filter(order=order).update(reference="")
    deliver(ev.event("refund.created", ev.refund("re_1", "", amount=100)))
    deliver(ev.event("charge.dispute.created", ev.dispute("dp_1", "", amount=100)))

    assert not Refund.objects.exists()
    assert order.payments.get().status == Payment.Status.PENDING
    assert not order.disputes.exists()
    assert WebhookEvent.objects.exclude(error="").count() == 2


def test_a_refund_event_without_an_id_touches_no_refund(stripe_fake, paid_order, deliver):
    stripe_fake.refund_status = "pending"
    refund = refund_create(order=paid_order, amount=Decimal("3.00"))
    Refund.objects.filter(pk=refund.pk).update(reference="")

    deliver(ev.event("refund.updated", ev.refund("", _pi(paid_order), amount=300)))

    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    assert WebhookEvent.objects.get().error == "A refund without an id."


def test_the_sweep_applies_stored_events_that_no_task_applied(stripe_order):
    from datetime import timedelta

    from django.utils import timezone

    from orders.webhooks import webhook_events_apply_pending

    stale = WebhookEvent.objects.create(
        event_id="evt_lost",
        type="payment_intent.succeeded",
        payload=ev.event("payment_intent.succeeded", ev.intent(_pi(stripe_order))),
        received_at=timezone.now() - timedelta(minutes=5),
    )
    fresh = WebhookEvent.objects.create(
        event_id="evt_fresh",
        type="payment_intent.processing",
        payload=ev.event("payment_intent.processing", ev.intent(_pi(stripe_order))),
    )
    assert webhook_events_apply_pending() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.processed_at is not None
    assert fresh.processed_at is None  # its own task is still on the way
    stripe_order.refresh_from_db()
    assert stripe_order.status == Order.Status.PAID


def test_beat_runs_the_webhook_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["webhook-events-sweep"]
    assert entry["task"] == "orders.tasks.webhook_events_sweep_task"
