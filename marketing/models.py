"""Marketing tables: the cart-abandonment sequence, the emails it sent, and opt-outs."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone


class MarketingAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the marketing dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_marketing", "Can open the marketing dashboard")]


class AbandonmentSequence(models.Model):
    """The cart-abandonment emails: one row (pk 1), edited on the marketing dashboard.

    Two steps, each counted from the cart's last activity (Cart.updated_at); the second
    may carry a single-use percentage voucher valid for `voucher_valid_days`.
    """

    SINGLETON_PK = 1

    enabled = models.BooleanField(default=True)
    step1_delay_hours = models.PositiveIntegerField(default=1)
    step2_delay_hours = models.PositiveIntegerField(default=24)
    # Empty: the second email carries no voucher.
    voucher_percent = models.PositiveSmallIntegerField(null=True, blank=True, default=10)
    voucher_valid_days = models.PositiveSmallIntegerField(default=7)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(step1_delay_hours__gte=1), name="abandonment_step1_after_an_hour"
            ),
            models.CheckConstraint(
                condition=Q(step2_delay_hours__gt=F("step1_delay_hours")),
                name="abandonment_delays_increase",
            ),
            models.CheckConstraint(
                condition=Q(voucher_percent__isnull=True)
                | Q(voucher_percent__gte=1, voucher_percent__lte=100),
                name="abandonment_voucher_percent_1_100",
            ),
            models.CheckConstraint(
                condition=Q(voucher_valid_days__gte=1), name="abandonment_voucher_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Abandonment emails at {self.step1_delay_hours} h and {self.step2_delay_hours} h"

    def delays(self) -> dict[int, int]:
        """Step number -> hours after the last cart activity."""
        return {1: self.step1_delay_hours, 2: self.step2_delay_hours}


class AbandonmentEmail(models.Model):
    """Step `step` of the sequence for one cart. The row is the claim: it is written
    before the email is sent (unique per cart and step), `sent_at` once it went out."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent (cart ordered, emptied or opted out)"

    cart = models.ForeignKey(
        "orders.Cart", on_delete=models.CASCADE, related_name="abandonment_emails"
    )
    step = models.PositiveSmallIntegerField()
    email = models.EmailField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    claimed_at = models.DateTimeField(default=timezone.now)
    # A sender holds the claim from here; another may take it over once it is stale
    # (the first one crashed between claiming and sending).
    attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    clicks = models.PositiveIntegerField(default=0)
    voucher = models.ForeignKey(
        "orders.Voucher", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "step"], name="abandonment_email_once"),
        ]
        indexes = [
            models.Index(fields=["sent_at"]),
            models.Index(fields=["outcome", "claimed_at"]),
        ]

    def __str__(self) -> str:
        return f"Abandonment email {self.step} for cart {self.cart_id}"


class Suppression(models.Model):
    """An address that asked for no more marketing email (lowercased)."""

    email = models.EmailField()
    source = models.CharField(max_length=40, default="unsubscribe")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="suppression_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email
