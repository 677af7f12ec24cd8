"""Disputes from Stripe's webhooks: flag, hold, tell the managers once, settle the money."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from orders.disputes import dispute_email_send
from orders.models import Dispute, Order, OrderEvent, Payment
from orders.services import OrderError, order_hold, order_release, payment_status_set
from tests.factories import StaffFactory
from tests.fakes import stripe_events as ev
from tests.fakes.stripe_orders import stripe_order_fixture  # noqa: F401
from tests.fakes.stripe_server import stripe_fake_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

DUE = int(time.time()) + 7 * 86400


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def send(payload: dict):
        with django_capture_on_commit_callbacks(execute=True):
            response = ev.deliver(client, payload)
        assert response.status_code == 200
        return response

    return send


@pytest.fixture
def managers(roles):
    return [StaffFactory(role="Manager"), StaffFactory(role="Manager")]


@pytest.fixture
def paid_order(stripe_fake, stripe_order, managers):
    stripe_fake.succeed(stripe_order.payments.get().reference)
    payment_status_set(payment=stripe_order.payments.get(), status=Payment.Status.SUCCEEDED)
    stripe_order.refresh_from_db()
    assert stripe_order.status == Order.Status.PAID
    return stripe_order


def _dispute(order: Order, status: str = "needs_response", amount: int | None = None) -> dict:
    return ev.dispute(
        "dp_1",
        order.payments.get().reference,
        amount=int(order.total * 100) if amount is None else amount,
        status=status,
        due_by=DUE,
    )


def _created(order: Order, **kwargs) -> dict:
    return ev.event("charge.dispute.created", _dispute(order, **kwargs))


def _closed(order: Order, status: str, **kwargs) -> dict:
    return ev.event("charge.dispute.closed", _dispute(order, status=status, **kwargs))


def test_a_new_dispute_is_recorded_flags_and_holds_the_order(paid_order, deliver):
    deliver(_created(paid_order))

    dispute = Dispute.objects.get()
    assert dispute.order == paid_order
    assert dispute.payment == paid_order.payments.get()
    assert (dispute.reference, dispute.reason, dispute.status) == (
        "dp_1",
        "fraudulent",
        Dispute.Status.NEEDS_RESPONSE,
    )
    assert (dispute.amount, dispute.currency) == (paid_order.total, "EUR")
    assert int(dispute.evidence_due_by.timestamp()) == DUE
    paid_order.refresh_from_db()
    assert paid_order.is_disputed
    assert paid_order.status == Order.Status.ON_HOLD
    assert paid_order.held_from == Order.Status.PAID
    assert paid_order.hold_reason == "Payment disputed (dp_1)"
    (event,) = paid_order.events.filter(kind=OrderEvent.Kind.DISPUTE)
    assert "disputed by the shopper's bank" in event.message
    assert "fraudulent" in event.message
    # The money is not counted as gone until the dispute is lost.
    assert paid_order.refunded_total == 0


def test_the_managers_are_emailed_once_per_dispute(paid_order, managers, deliver, mailoutbox):
    StaffFactory(role="Support")
    StaffFactory(role="Manager", is_active=False)
    created = _created(paid_order)
    for _ in range(10):
        deliver(created)
    deliver(ev.event("charge.dispute.updated", _dispute(paid_order, status="under_review")))
    deliver(ev.event("charge.dispute.created", _dispute(paid_order)))  # another event id

    (message,) = mailoutbox
    assert sorted(message.to) == sorted(manager.email for manager in managers)
    assert message.subject == f"Order {paid_order.number} disputed: {paid_order.total} EUR"
    assert "fraudulent" in message.body
    assert "on hold" in message.body
    assert f"/dashboard/orders/{paid_order.number}/" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert f"<strong>{paid_order.total} EUR</strong>" in html
    assert "Evidence due by" in html
    assert (
        paid_order.events.filter(kind=OrderEvent.Kind.EMAIL, message__contains="2 managers").count()
        == 1
    )
    assert dispute_email_send(dispute_id=Dispute.objects.get().pk) is False


def test_an_update_moves_the_status_and_says_so(paid_order, deliver):
    deliver(_created(paid_order))
    deliver(ev.event("charge.dispute.updated", _dispute(paid_order, status="under_review")))

    assert Dispute.objects.get().status == Dispute.Status.UNDER_REVIEW
    messages = list(
        paid_order.events.filter(kind=OrderEvent.Kind.DISPUTE).values_list("message", flat=True)
    )
    assert messages[-1] == "Dispute dp_1: Needs response → Under review."


def test_an_open_dispute_keeps_the_order_on_hold(paid_order, deliver):
    deliver(_created(paid_order))
    paid_order.refresh_from_db()
    with pytest.raises(OrderError, match="open dispute"):
        order_release(order=paid_order, actor=StaffFactory())


def test_a_dispute_created_then_lost_counts_as_refunded(paid_order, deliver):
    deliver(_created(paid_order, amount=2000))
    deliver(_closed(paid_order, "lost", amount=2000))

    dispute = Dispute.objects.get()
    assert dispute.status == Dispute.Status.LOST
    assert dispute.closed_at is not None
    paid_order.refresh_from_db()
    assert paid_order.paid_total == paid_order.total
    assert paid_order.refunded_total == Decimal("20.00")
    assert paid_order.net_total == paid_order.total - Decimal("20.00")
    assert paid_order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert paid_order.payments.get().amount_refunded == Decimal("20.00")
    assert paid_order.customer.total_spent == paid_order.total - Decimal("20.00")
    messages = list(
        paid_order.events.filter(kind=OrderEvent.Kind.DISPUTE).values_list("message", flat=True)
    )
    assert messages[-1] == (
        "Dispute dp_1 lost: 20.00 EUR went back to the shopper's bank and counts as refunded."
    )
    # Lost: it stays on hold for staff to decide (ship nothing, cancel or write it off).
    assert paid_order.status == Order.Status.ON_HOLD


def test_a_lost_dispute_is_settled_once_however_often_it_is_told(paid_order, deliver):
    deliver(_created(paid_order))
    closed = _closed(paid_order, "lost")
    for _ in range(3):
        deliver(closed)
    deliver(_closed(paid_order, "lost"))  # a second event about the same close
    deliver(ev.event("charge.dispute.updated", _dispute(paid_order, status="under_review")))

    paid_order.refresh_from_db()
    assert paid_order.refunded_total == paid_order.total
    assert paid_order.payment_status == Order.PaymentStatus.REFUNDED
    assert Dispute.objects.get().status == Dispute.Status.LOST
    assert paid_order.events.filter(message__contains="lost").count() == 1


def test_a_fully_lost_dispute_on_an_order_not_on_hold_refunds_it(paid_order, deliver):
    # Shipped already: the dispute cannot hold it, and losing refunds it entirely.
    Order.objects.filter(pk=paid_order.pk).update(status=Order.Status.FULFILLED)
    deliver(_created(paid_order))
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.FULFILLED
    assert paid_order.is_disputed

    deliver(_closed(paid_order, "lost"))
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.REFUNDED
    assert paid_order.payment_status == Order.PaymentStatus.REFUNDED


def test_closed_lost_arriving_before_created_ends_the_same(paid_order, deliver, mailoutbox):
    deliver(_closed(paid_order, "lost", amount=2000))
    deliver(_created(paid_order, amount=2000))

    dispute = Dispute.objects.get()
    assert dispute.status == Dispute.Status.LOST
    paid_order.refresh_from_db()
    assert paid_order.refunded_total == Decimal("20.00")
    assert paid_order.is_disputed
    assert len(mailoutbox) == 1


def test_a_won_dispute_releases_the_hold_and_changes_no_figures(paid_order, deliver):
    deliver(_created(paid_order))
    deliver(_closed(paid_order, "won"))

    paid_order.refresh_from_db()
    assert Dispute.objects.get().status == Dispute.Status.WON
    assert paid_order.status == Order.Status.PAID
    assert paid_order.hold_reason == ""
    assert (paid_order.paid_total, paid_order.refunded_total) == (paid_order.total, 0)
    assert paid_order.payment_status == Order.PaymentStatus.PAID
    assert paid_order.events.filter(message="Dispute won: released from the dispute hold.").exists()


def test_a_won_dispute_does_not_release_a_hold_for_another_reason(paid_order, deliver):
    order_hold(order=paid_order, reason="Fraud check: risk score 80.")
    deliver(_created(paid_order))
    deliver(_closed(paid_order, "won"))

    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.ON_HOLD
    assert paid_order.hold_reason == "Fraud check: risk score 80."


def test_a_dispute_for_an_unknown_payment_is_stored_with_the_reason(stripe_fake, deliver):
    deliver(ev.event("charge.dispute.created", ev.dispute("dp_x", "pi_unknown", amount=100)))
    assert not Dispute.objects.exists()
