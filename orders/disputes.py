"""Disputes (chargebacks): recorded from the provider's webhooks, one row per dispute.

Opening one flags the order, holds it (so fulfillment does not ship goods whose money
the bank took back) and emails the managers once. Closing it settles the money: won, the
payment stands and the order is released from the hold the dispute put it on; lost, the
disputed amount counts as refunded. A closed dispute is final: late or repeated events
about it change nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from config.mail import send_templated_email
from customers.records import customer_spent_changed
from orders.models import Dispute, Order, OrderEmail, OrderEvent, Payment
from orders.services import (
    TRANSITIONS,
    _locked,
    _order_payment_status,
    event_add,
    order_hold,
    order_transition,
)

OPEN = (Dispute.Status.WARNING, Dispute.Status.NEEDS_RESPONSE, Dispute.Status.UNDER_REVIEW)
CLOSED = (Dispute.Status.WON, Dispute.Status.LOST)
# Stripe's dispute statuses -> ours. An inquiry closed without a chargeback, or a charge we
# refunded ourselves (the refund already counts), leaves the money figures alone: "won".
STRIPE_STATUS = {
    "warning_needs_response": Dispute.Status.WARNING,
    "warning_under_review": Dispute.Status.UNDER_REVIEW,
    "warning_closed": Dispute.Status.WON,
    "needs_response": Dispute.Status.NEEDS_RESPONSE,
    "under_review": Dispute.Status.UNDER_REVIEW,
    "won": Dispute.Status.WON,
    "lost": Dispute.Status.LOST,
    "charge_refunded": Dispute.Status.WON,
}
MANAGER_ROLE = "Manager"


def _hold_reason(reference: str) -> str:
    return f"Payment disputed ({reference})"


@transaction.atomic
def dispute_record(
    *,
    payment: Payment,
    reference: str,
    status: str,
    amount: Decimal,
    currency: str,
    reason: str = "",
    evidence_due_by: datetime | None = None,
) -> Dispute:
    """Create or update the dispute `reference` on `payment`'s order, applying what opening
    and closing it mean exactly once. Returns the dispute."""
    order = _locked(payment.order)
    dispute = Dispute.objects.select_for_update().filter(reference=reference).first()
    now = timezone.now()
    if dispute is None:
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    order=order,
                    payment=payment,
                    reference=reference,
                    reason=reason[:60],
                    amount=amount,
                    currency=currency.upper(),
                    status=status,
                    evidence_due_by=evidence_due_by,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # another worker recorded it first: update that one
            return dispute_record(
                payment=payment,
                reference=reference,
                status=status,
                amount=amount,
                currency=currency,
                reason=reason,
                evidence_due_by=evidence_due_by,
            )
        _opened(order, dispute)
    else:
        if dispute.status in CLOSED:
            return dispute
        previous = dispute.status
        dispute.status = status
        dispute.reason = reason[:60] or dispute.reason
        dispute.amount = amount
        dispute.evidence_due_by = evidence_due_by or dispute.evidence_due_by
        dispute.updated_at = now
        dispute.save()
        if previous != status and status in OPEN:
            event_add(
                order=order,
                kind=OrderEvent.Kind.DISPUTE,
                message=f"Dispute {reference}: {Dispute.Status(previous).label} → "
                f"{Dispute.Status(status).label}.",
            )
    if status in CLOSED:
        dispute.closed_at = now
        dispute.save(update_fields=["closed_at"])
        _closed(order, dispute)
    return dispute


def _opened(order: Order, dispute: Dispute) -> None:
    Order.objects.filter(pk=order.pk).update(is_disputed=True, updated_at=timezone.now())
    order.is_disputed = True
    due = (
        f"; evidence due by {timezone.localtime(dispute.evidence_due_by):%Y-%m-%d %H:%M}"
        if dispute.evidence_due_by
        else ""
    )
    event_add(
        order=order,
        kind=OrderEvent.Kind.DISPUTE,
        message=f"Payment disputed by the shopper's bank: {dispute.amount} {dispute.currency}"
        f" ({dispute.reason or 'no reason given'}){due}.",
        data={"dispute": dispute.reference},
    )
    if dispute.status in OPEN and Order.Status.ON_HOLD in TRANSITIONS[order.status]:
        order_hold(order=order, reason=_hold_reason(dispute.reference))
    dispute_id = dispute.pk
    from orders.tasks import dispute_email_task

    transaction.on_commit(lambda: dispute_email_task.delay(dispute_id))


def _closed(order: Order, dispute: Dispute) -> None:
    order.refresh_from_db()
    if dispute.status == Dispute.Status.LOST:
        _lost(order, dispute)
    else:
        event_add(
            order=order,
            kind=OrderEvent.Kind.DISPUTE,
            message=f"Dispute {dispute.reference} won: the payment stands.",
        )
    held_for_it = order.status == Order.Status.ON_HOLD and order.hold_reason == _hold_reason(
        dispute.reference
    )
    others_open = order.disputes.filter(status__in=OPEN).exclude(pk=dispute.pk).exists()
    if dispute.status == Dispute.Status.WON and held_for_it and not others_open:
        order_transition(
            order=order,
            to=order.held_from or Order.Status.PAID,
            message="Dispute won: released from the dispute hold.",
        )


def _lost(order: Order, dispute: Dispute) -> None:
    """The bank gave the disputed amount back to the shopper: it counts as refunded."""
    payment = Payment.objects.select_for_update().get(pk=dispute.payment_id)
    taken = min(
        dispute.amount,
        payment.amount - payment.amount_refunded,
        order.paid_total - order.refunded_total,
    )
    if taken > 0:
        Payment.objects.filter(pk=payment.pk).update(
            amount_refunded=F("amount_refunded") + taken, updated_at=timezone.now()
        )
        order.refunded_total += taken
        order.payment_status = _order_payment_status(order)
        order.updated_at = timezone.now()
        order.save(update_fields=["refunded_total", "payment_status", "updated_at"])
        customer_spent_changed(customer_id=order.customer_id, delta=-taken)
    event_add(
        order=order,
        kind=OrderEvent.Kind.DISPUTE,
        message=f"Dispute {dispute.reference} lost: {taken} {dispute.currency} went back to "
        "the shopper's bank and counts as refunded.",
        data={"dispute": dispute.reference, "refunded": str(taken)},
    )
    if order.refunded_total >= order.paid_total and order.status in (
        Order.Status.PAID,
        Order.Status.PARTIALLY_FULFILLED,
        Order.Status.FULFILLED,
    ):
        order_transition(order=order, to=Order.Status.REFUNDED, message="Refunded: dispute lost.")


def dispute_managers() -> list[str]:
    """Email addresses of active staff with the Manager role."""
    users = get_user_model().objects.filter(groups__name=MANAGER_ROLE, is_active=True)
    return sorted(set(users.values_list("email", flat=True)))


def dispute_email_send(*, dispute_id: int) -> bool:
    """Tell the managers about a new dispute, once: a row claims the email first (a
    redelivered task sends nothing; a failed send leaves it unsent for the retry)."""
    dispute = Dispute.objects.select_related("order").get(pk=dispute_id)
    key = f"dispute:{dispute.pk}"
    try:
        with transaction.atomic():
            claim = OrderEmail.objects.create(order=dispute.order, key=key)
    except IntegrityError:
        claim = OrderEmail.objects.get(order=dispute.order, key=key)
        if claim.sent_at is not None:
            return False
    recipients = dispute_managers()
    if not recipients:
        return False
    order = dispute.order
    send_templated_email(
        template="dispute_opened",
        to=recipients,
        context={
            "dispute": dispute,
            "order": order,
            "order_url": settings.SITE_URL + reverse("orders:staff-detail", args=[order.number]),
        },
    )
    OrderEmail.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    event_add(
        order=order,
        kind=OrderEvent.Kind.EMAIL,
        message=f"Dispute email sent to {len(recipients)} manager"
        f"{'s' if len(recipients) != 1 else ''}.",
    )
    return True
