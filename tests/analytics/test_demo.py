from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max

from analytics import reports, selectors
from analytics.models import DailyKpi, OrderAttribution, ProductView, Visit, Visitor
from customers.models import Customer
from orders.models import Cart, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo")


def test_demo_traffic_fills_the_last_30_days(seeded):
    today = selectors.store_today()
    report = reports.report(first=today - timedelta(days=29), last=today)
    figures = report.current
    assert figures.sessions > 0
    assert figures.product_views > 0
    assert figures.orders > 0
    assert 0 < figures.conversion_rate < 1
    assert figures.bounces < figures.sessions
    # Some carts were left behind, none with an email (no reminder goes out for them).
    assert 0 < figures.cart_abandonment_rate < 1
    assert Cart.objects.filter(status=Cart.Status.OPEN).exists()
    assert not Cart.objects.filter(status=Cart.Status.OPEN).exclude(email="").exists()
    sources = {row["source"] for row in report.sources}
    assert {"direct", "google.com", "newsletter", "instagram"} <= sources
    assert selectors.UNATTRIBUTED not in sources
    # The past days are rolled up (the dashboard reads them), not only today's live figures.
    assert DailyKpi.objects.filter(day__lt=today, sessions__gt=0).count() >= 30


def test_every_demo_order_is_placed_in_a_visit_of_its_day(seeded):
    tz = selectors.store_tz()
    visits = {v.key: v for v in Visit.objects.all()}
    attributions = list(OrderAttribution.objects.select_related("order"))
    assert len(attributions) == Order.objects.count()
    first_sources = dict(Visitor.objects.values_list("key", "first_source"))
    for attribution in attributions:
        visit = visits[attribution.visit_key]
        placed = attribution.order.created_at
        assert visit.started_at <= placed
        assert visit.started_at.astimezone(tz).date() == placed.astimezone(tz).date()
        assert attribution.source == first_sources[visit.visitor_key]
    assert not ProductView.objects.exclude(visit_key__in=list(visits)).exists()
    one_page_with_views = Visit.objects.filter(
        page_views=1, key__in=ProductView.objects.values("visit_key")
    )
    assert all(v.landing_path.startswith("/products/") for v in one_page_with_views)


def counts() -> dict[str, int]:
    models = (Visit, Visitor, ProductView, OrderAttribution, Cart, DailyKpi)
    return {model.__name__: model.objects.count() for model in models}


def test_seeding_again_adds_no_visits(seeded):
    seeded_counts = counts()
    assert seeded_counts["Visit"] > 500
    call_command("seed_demo")
    assert counts() == seeded_counts


def test_demo_orders_are_paid_after_they_were_placed(seeded):
    paid = Order.objects.filter(paid_at__isnull=False)
    assert paid.count() > 10
    for order in paid:
        assert order.created_at < order.paid_at <= order.created_at + timedelta(hours=7)
        payment = order.payments.get()
        assert payment.succeeded_at == order.paid_at
    # Spread over five weeks, not all on the day of seeding; so are their carts.
    days = {order.created_at.date() for order in Order.objects.all()}
    assert len(days) > 30
    ordered = Cart.objects.filter(status=Cart.Status.ORDERED)
    assert {cart.ordered_at.date() for cart in ordered} == days
    for cart in ordered:
        assert cart.created_at < cart.checkout_started_at < cart.ordered_at
        assert all(line.added_at < cart.ordered_at for line in cart.lines.all())


def test_customers_order_dates_come_from_their_orders(seeded):
    customers = Customer.objects.filter(orders__isnull=False).distinct()
    assert customers.count() > 5
    for customer in customers:
        kept = customer.orders.exclude(status=Order.Status.CANCELLED)
        newest = kept.aggregate(at=Max("created_at"))["at"]
        oldest = kept.order_by("created_at").values_list("created_at", flat=True).first()
        assert customer.last_order_at == newest
        assert customer.first_order_at == oldest
