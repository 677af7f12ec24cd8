"""Fraud check at placement: a score from plain rules, each with its reason.

Rules and points (a score of RISK_HOLD_THRESHOLD or more holds the order for a person):
- several orders from one email, or from one IP address, within an hour;
- failed payments from the same email in the last day;
- billing and shipping countries differ;
- an order far above the customer's own history (or a large first order);
- a disposable email domain;
- Stripe's own risk level, when the payment reports one (elevated, highest).
Points add up, capped at 100. Rules, not a model: a merchant can read why.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from orders.models import Order, OrderEvent, Payment

WINDOW = timedelta(hours=1)
VELOCITY_LIMIT = 3  # orders in WINDOW, this one included, before it counts
FAILED_PAYMENT_LIMIT = 2
HIGH_VALUE_FACTOR = Decimal(4)
LARGE_FIRST_ORDER = Decimal(1000)
DISPOSABLE_DOMAINS = frozenset(
    {
        "mailinator.com",
        "guerrillamail.com",
        "10minutemail.com",
        "tempmail.com",
        "temp-mail.org",
        "yopmail.com",
        "trashmail.com",
        "sharklasers.com",
        "getnada.com",
        "dispostable.com",
        "throwawaymail.com",
        "maildrop.cc",
    }
)
STRIPE_RISK_POINTS = {"elevated": 35, "highest": 70}


def risk_reasons(*, order: Order) -> list[dict[str, object]]:
    """Every rule that fires for `order`, with its points and a sentence for staff."""
    reasons: list[dict[str, object]] = []
    since = order.created_at - WINDOW
    # Only what came before this order: a later re-assessment (Stripe's risk level) must
    # not count the shopper's later orders against this one.
    others = Order.objects.exclude(pk=order.pk).filter(
        created_at__gte=since, created_at__lte=order.created_at
    )

    by_email = others.filter(email__iexact=order.email).count() + 1
    if by_email >= VELOCITY_LIMIT:
        reasons.append(
            {
                "rule": "velocity_email",
                "points": 30,
                "reason": f"{by_email} orders from {order.email} within an hour.",
            }
        )
    if order.ip_address:
        by_ip = others.filter(ip_address=order.ip_address).count() + 1
        if by_ip >= VELOCITY_LIMIT:
            reasons.append(
                {
                    "rule": "velocity_ip",
                    "points": 25,
                    "reason": f"{by_ip} orders from the address {order.ip_address} within an hour.",
                }
            )
    failed = Payment.objects.filter(
        order__email__iexact=order.email,
        status=Payment.Status.FAILED,
        updated_at__gte=order.created_at - timedelta(days=1),
        updated_at__lte=order.created_at,
    ).count()
    if failed >= FAILED_PAYMENT_LIMIT:
        reasons.append(
            {
                "rule": "failed_payments",
                "points": 30,
                "reason": f"{failed} failed payments from this email in the last day.",
            }
        )
    ship_country = (order.shipping_address or {}).get("country", "")
    bill_country = (order.billing_address or {}).get("country", "")
    if ship_country and bill_country and ship_country != bill_country:
        reasons.append(
            {
                "rule": "country_mismatch",
                "points": 20,
                "reason": f"Billing country {bill_country} differs from shipping country "
                f"{ship_country}.",
            }
        )
    history = Order.objects.filter(customer_id=order.customer_id, created_at__lt=order.created_at)
    history = list(history.exclude(status=Order.Status.CANCELLED).values_list("total", flat=True))
    if history:
        average = sum(history, Decimal(0)) / len(history)
        if average > 0 and order.total > average * HIGH_VALUE_FACTOR:
            reasons.append(
                {
                    "rule": "high_value",
                    "points": 25,
                    "reason": f"Total {order.total} is more than {HIGH_VALUE_FACTOR} times this "
                    f"customer's average order ({average:.2f}).",
                }
            )
    elif order.total >= LARGE_FIRST_ORDER:
        reasons.append(
            {
                "rule": "large_first_order",
                "points": 20,
                "reason": f"A first order of {order.total} {order.currency}.",
            }
        )
    domain = order.email.rsplit("@", 1)[-1].lower()
    if domain in DISPOSABLE_DOMAINS:
        reasons.append(
            {
                "rule": "disposable_email",
                "points": 30,
                "reason": f"{domain} hands out throwaway addresses.",
            }
        )
    level = (
        order.payments.exclude(risk_level="")
        .order_by("-updated_at")
        .values_list("risk_level", flat=True)
        .first()
    )
    if level in STRIPE_RISK_POINTS:
        reasons.append(
            {
                "rule": "stripe_risk",
                "points": STRIPE_RISK_POINTS[level],
                "reason": f"Stripe rates the payment's risk as {level}.",
            }
        )
    return reasons


@transaction.atomic
def risk_assess(*, order: Order) -> Order:
    """Score the order, store the reasons and hold it when the score reaches the threshold
    (unless a person already approved it after a hold)."""
    from orders.services import event_add, order_hold

    reasons = risk_reasons(order=order)
    score = min(sum(int(reason["points"]) for reason in reasons), 100)
    changed = score != order.risk_score
    Order.objects.filter(pk=order.pk).update(risk_score=score, risk_reasons=reasons)
    order.risk_score, order.risk_reasons = score, reasons
    if changed and reasons:
        event_add(
            order=order,
            kind=OrderEvent.Kind.RISK,
            message=f"Risk score {score}: " + " ".join(str(r["reason"]) for r in reasons),
            data={"score": score},
        )
    approved = order.events.filter(kind=OrderEvent.Kind.STATUS, from_status=Order.Status.ON_HOLD)
    if (
        score >= settings.RISK_HOLD_THRESHOLD
        and order.status in (Order.Status.PENDING_PAYMENT, Order.Status.PAID)
        and not approved.exists()
    ):
        order_hold(order=order, reason=f"Fraud check: risk score {score}.")
    return order
