"""Reads for marketing that views, tasks and reports share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from marketing.models import AbandonmentEmail
from orders.models import ZERO, Order


@dataclass
class StepFigures:
    step: int
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    recovered: int = 0
    revenue: Decimal = ZERO

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.sent if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None


@dataclass
class AbandonmentReport:
    start: date
    end: date
    steps: list[StepFigures] = field(default_factory=list)
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    recovered: int = 0
    revenue: Decimal = ZERO


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end`, in the store's time zone."""
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def _recovered_orders(emails) -> tuple[int, Decimal]:
    """Orders placed from a cart after one of `emails` went to it (cancelled ones aside):
    how many, and their total. An order counts once however many emails preceded it."""
    figures = (
        Order.objects.exclude(status=Order.Status.CANCELLED)
        .filter(
            Exists(
                emails.filter(
                    cart__token=OuterRef("cart_token"), sent_at__lte=OuterRef("created_at")
                )
            )
        )
        .aggregate(count=Count("pk"), revenue=Sum("total"))
    )
    return figures["count"], figures["revenue"] or ZERO


def abandonment_report(
    *, start: date, end: date, steps: tuple[int, ...] = (1, 2)
) -> AbandonmentReport:
    """Emails sent from `start` to `end` (inclusive, store time), opened, clicked, and the
    carts they recovered with the revenue: per step and overall (a cart recovered after
    both emails counts once overall, and under each step)."""
    since, until = _day_bounds(start, end)
    emails = AbandonmentEmail.objects.filter(
        outcome=AbandonmentEmail.Outcome.SENT, sent_at__gte=since, sent_at__lt=until
    )
    counted = {
        row["step"]: row
        for row in emails.values("step")
        .order_by("step")
        .annotate(
            sent=Count("pk"),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        )
    }
    report = AbandonmentReport(start=start, end=end)
    for step in sorted(set(steps) | set(counted)):
        row = counted.get(step, {})
        figures = StepFigures(
            step=step,
            sent=row.get("sent", 0),
            opened=row.get("opened", 0),
            clicked=row.get("clicked", 0),
        )
        if figures.sent:
            figures.recovered, figures.revenue = _recovered_orders(emails.filter(step=step))
        report.steps.append(figures)
        report.sent += figures.sent
        report.opened += figures.opened
        report.clicked += figures.clicked
    if report.sent:
        report.recovered, report.revenue = _recovered_orders(emails)
    return report
