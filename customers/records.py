"""The customer record behind every order: found or made by email, figures kept current.

Called by the orders app above this one (DESIGN: a higher layer pushes data down through
the lower app's service), so customers never imports orders.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from customers.models import Customer


def may_claim(user, email: str) -> bool:
    """Whether `user` may be linked to the customer record of `email`: only an account whose
    owner confirmed that very address. Anyone can sign up with someone else's email (or
    type it at checkout); linking then would show them that person's orders."""
    return (
        user is not None
        and getattr(user, "email_confirmed_at", None) is not None
        and user.email.strip().lower() == email.strip().lower()
    )


def customer_for_email(*, email: str, full_name: str = "", user=None) -> Customer:
    """The customer of `email` (any case), made when new; linked to `user` when given, the
    record has no account yet and the user confirmed this address (`may_claim`). Safe
    against two checkouts making the same one."""
    email = email.strip().lower()
    if not may_claim(user, email):
        user = None
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(email=email, full_name=full_name, user=user)
        except IntegrityError:  # made meanwhile by another checkout
            customer = Customer.objects.get(email__iexact=email)
    changed = []
    if user is not None and customer.user_id is None:
        customer.user = user
        changed.append("user")
    if full_name and not customer.full_name:
        customer.full_name = full_name
        changed.append("full_name")
    if changed:
        customer.save(update_fields=changed)
    return customer


def customer_order_recorded(
    *, customer_id: int, amount: Decimal, placed_at: datetime | None = None
) -> None:
    """Count a placed order in the customer's figures; one conditional UPDATE, no read."""
    placed_at = placed_at or timezone.now()
    Customer.objects.filter(pk=customer_id).update(
        orders_count=F("orders_count") + 1,
        total_spent=F("total_spent") + amount,
        first_order_at=Coalesce(Least("first_order_at", placed_at), placed_at),
        last_order_at=Coalesce(Greatest("last_order_at", placed_at), placed_at),
    )


def customer_spent_changed(*, customer_id: int, delta: Decimal, orders: int = 0) -> None:
    """Move the figures when money comes back (a refund: negative delta) or an order is
    cancelled (orders=-1)."""
    Customer.objects.filter(pk=customer_id).update(
        total_spent=F("total_spent") + delta, orders_count=F("orders_count") + orders
    )


def customer_consent_set(*, customer: Customer, accepts: bool, source: str) -> Customer:
    """Record marketing consent given or withdrawn, with when and where."""
    if customer.accepts_marketing != accepts or customer.marketing_consent_at is None:
        customer.accepts_marketing = accepts
        customer.marketing_consent_at = timezone.now()
        customer.marketing_consent_source = source[:40]
        customer.save(
            update_fields=[
                "accepts_marketing",
                "marketing_consent_at",
                "marketing_consent_source",
            ]
        )
    return customer
