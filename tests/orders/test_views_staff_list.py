"""The orders list of the dashboard: filters, keyset pages, bounded count, permissions."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer
from orders.models import Order
from orders.selectors_staff import COUNT_LIMIT, Cursor
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
LIST = "/dashboard/orders/"
NOW = timezone.now().replace(microsecond=123456)


def make_orders(count: int, *, customer=None, created_at=None, **fields) -> list[Order]:
    """Orders written straight to the table (as the bench does): the list reads only them."""
    customer = customer or Customer.objects.create(
        email=f"c{Customer.objects.count()}@example.net", full_name="Grace Hopper"
    )
    start = Order.objects.count()
    orders = Order.objects.bulk_create(
        Order(
            number=str(10_000 + start + index),
            customer=customer,
            email=customer.email,
            total=Decimal("10.00"),
            shipping_address={"full_name": customer.full_name, "country": "DE"},
            created_at=created_at or NOW - dt.timedelta(minutes=start + index),
            **fields,
        )
        for index in range(count)
    )
    return orders


def numbers(html: str) -> list[str]:
    return re.findall(r'class="order-link" href="/dashboard/orders/(\d+)/"', html)


@pytest.fixture
def manager(roles, staff_login):
    return staff_login(StaffFactory(role="Manager"))


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/")


@pytest.mark.parametrize(
    ("role", "status"), [("Warehouse", 200), ("Support", 200), ("Marketing", 403)]
)
def test_who_may_see_the_list(roles, staff_login, role, status):
    client = staff_login(StaffFactory(role=role))
    assert client.get(LIST).status_code == status


def test_full_page_htmx_rows_and_embed(manager):
    make_orders(3)
    page = manager.get(LIST)
    assert page.status_code == 200
    assert "<h1>Orders</h1>" in page.text
    assert len(numbers(page.text)) == 3
    partial = manager.get(LIST, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="order-rows"')
    assert "<h1>" not in partial.text
    assert "HX-Request" in partial["Vary"]
    embedded = manager.get(LIST, {"embed": "1"})  # loaded by the customers dashboard
    assert embedded.text.lstrip().startswith('<div id="order-rows"')
    assert len(numbers(embedded.text)) == 3


def test_empty_list_says_so(manager):
    assert "No orders yet" in manager.get(LIST).text
    make_orders(1)
    assert "No orders match" in manager.get(LIST, {"q": "99999"}).text


def test_fifty_rows_in_a_bounded_number_of_queries(manager, django_assert_max_num_queries):
    for index in range(5):  # several customers: the join must not cost a query per row
        make_orders(12, customer=Customer.objects.create(email=f"q{index}@example.net"))
    # session, user, permissions (2), bounded count, rows with their customer
    with django_assert_max_num_queries(6):
        page = manager.get(LIST)
    assert len(numbers(page.text)) == 50


def test_keyset_pages_have_no_duplicates_or_gaps_when_times_are_equal(manager):
    same_time = NOW - dt.timedelta(days=1)
    make_orders(60, created_at=same_time)  # 60 orders at one instant, across a page edge
    make_orders(45)
    expected = list(Order.objects.order_by("-created_at", "-id").values_list("number", flat=True))

    seen, url, query, pages = [], LIST, {}, 0
    while True:
        html = manager.get(url, query).text
        seen += numbers(html)
        pages += 1
        match = re.search(r'href="/dashboard/orders/\?after=([\d_]+)" rel="next"', html)
        if not match:
            break
        query = {"after": match.group(1)}
    assert pages == 3
    assert seen == expected

    # And back: "Newer" from the last page returns the page before it, in order.
    last = manager.get(LIST, query).text
    back = re.search(r'href="/dashboard/orders/\?before=([\d_]+)" rel="prev"', last).group(1)
    assert numbers(manager.get(LIST, {"before": back}).text) == expected[50:100]
    first = numbers(manager.get(LIST, {"before": Cursor.decode(back).encode()}).text)
    assert first == expected[50:100]


def test_newer_link_from_second_page_leads_to_first_page_without_prev(manager):
    make_orders(55)
    second = manager.get(
        LIST, {"after": re.search(r"after=([\d_]+)", manager.get(LIST).text).group(1)}
    )
    cursor = re.search(r"before=([\d_]+)", second.text).group(1)
    first = manager.get(LIST, {"before": cursor}).text
    assert len(numbers(first)) == 50
    assert 'rel="prev"' not in first
    assert 'rel="next"' in first


def test_a_broken_cursor_shows_the_first_page(manager):
    make_orders(2)
    assert len(numbers(manager.get(LIST, {"after": "nonsense"}).text)) == 2


def test_count_is_bounded(manager):
    make_orders(COUNT_LIMIT + 5)
    assert f"{COUNT_LIMIT}+ orders" in manager.get(LIST).text


def test_count_is_exact_below_the_bound(manager):
    make_orders(7)
    assert "7 orders" in manager.get(LIST).text


@pytest.mark.parametrize(
    ("field", "value", "other"),
    [
        ("status", Order.Status.PAID, Order.Status.PENDING_PAYMENT),
        ("payment_status", Order.PaymentStatus.FAILED, Order.PaymentStatus.UNPAID),
        (
            "fulfillment_status",
            Order.FulfillmentStatus.FULFILLED,
            Order.FulfillmentStatus.UNFULFILLED,
        ),
    ],
)
def test_status_filters(manager, field, value, other):
    wanted = make_orders(2, **{field: value})
    make_orders(3, **{field: other})
    shown = numbers(manager.get(LIST, {field: value}).text)
    assert sorted(shown) == sorted(order.number for order in wanted)


def test_risk_filter_shows_held_and_high_risk(manager, settings):
    settings.RISK_HOLD_THRESHOLD = 60
    risky = make_orders(1, risk_score=60) + make_orders(1, risk_score=95)
    make_orders(2, risk_score=59)
    shown = numbers(manager.get(LIST, {"risk": "high"}).text)
    assert sorted(shown) == sorted(order.number for order in risky)


def test_date_range_is_inclusive_of_both_days(manager):
    day = timezone.localdate() - dt.timedelta(days=10)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    inside = make_orders(1, created_at=start) + make_orders(
        1, created_at=start + dt.timedelta(days=1, hours=23, minutes=59)
    )
    make_orders(1, created_at=start - dt.timedelta(seconds=1))
    make_orders(1, created_at=start + dt.timedelta(days=2))
    shown = numbers(
        manager.get(LIST, {"date_from": day, "date_to": day + dt.timedelta(days=1)}).text
    )
    assert sorted(shown) == sorted(order.number for order in inside)


def test_end_before_start_is_explained_and_not_applied(manager):
    make_orders(2)
    today = timezone.localdate()
    page = manager.get(LIST, {"date_from": today, "date_to": today - dt.timedelta(days=3)}).text
    assert "The end date is before the start date." in page
    assert len(numbers(page)) == 2


def test_search_by_number_email_and_name(manager):
    ada = Customer.objects.create(email="ada@example.net", full_name="Ada Lovelace")
    (by_ada,) = make_orders(1, customer=ada)
    others = make_orders(3)
    assert numbers(manager.get(LIST, {"q": by_ada.number}).text) == [by_ada.number]
    assert numbers(manager.get(LIST, {"q": f"#{by_ada.number}"}).text) == [by_ada.number]
    assert numbers(manager.get(LIST, {"q": "ADA@example"}).text) == [by_ada.number]
    assert numbers(manager.get(LIST, {"q": "ada love"}).text) == [by_ada.number]
    assert len(numbers(manager.get(LIST, {"q": "grace"}).text)) == len(others)
    assert numbers(manager.get(LIST, {"q": "nobody"}).text) == []


def test_customer_filter_for_the_customers_dashboard(manager):
    ada = Customer.objects.create(email="ada@example.net", full_name="Ada Lovelace")
    hers = make_orders(2, customer=ada)
    make_orders(3)
    response = manager.get(LIST, {"customer": ada.pk, "embed": "1"})
    assert sorted(numbers(response.text)) == sorted(order.number for order in hers)
    assert "<html" not in response.text
    page = manager.get(LIST, {"customer": ada.pk}).text
    assert "Orders of <strong>Ada Lovelace</strong>" in page
    assert sorted(numbers(page)) == sorted(order.number for order in hers)


def test_filters_combine(manager):
    make_orders(2, status=Order.Status.PAID, payment_status=Order.PaymentStatus.PAID)
    (wanted,) = make_orders(
        1, status=Order.Status.PAID, payment_status=Order.PaymentStatus.PARTIALLY_REFUNDED
    )
    make_orders(
        1, status=Order.Status.CANCELLED, payment_status=Order.PaymentStatus.PARTIALLY_REFUNDED
    )
    shown = numbers(
        manager.get(LIST, {"status": "paid", "payment_status": "partially_refunded"}).text
    )
    assert shown == [wanted.number]


def test_pagination_links_keep_the_filters(manager):
    make_orders(55, status=Order.Status.PAID)
    html = manager.get(LIST, {"status": "paid"}).text
    assert re.search(r'href="/dashboard/orders/\?status=paid&amp;after=[\d_]+"', html)


def test_embedded_links_open_the_full_list_without_javascript(manager):
    ada = Customer.objects.create(email="ada@example.net", full_name="Ada Lovelace")
    make_orders(55, customer=ada)
    html = manager.get(LIST, {"customer": ada.pk, "embed": "1"}).text
    assert re.search(rf'href="/dashboard/orders/\?customer={ada.pk}&amp;after=', html)
    assert re.search(rf'hx-get="/dashboard/orders/\?customer={ada.pk}&amp;embed=1&amp;after=', html)


def test_cursor_round_trips_to_the_microsecond():
    when = dt.datetime(2026, 3, 1, 12, 30, 45, 999_999, tzinfo=dt.UTC)
    cursor = Cursor.decode(Cursor(when, 42).encode())
    assert cursor == Cursor(when, 42)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"status": "paid"}, "order_status_newest"),
        ({"payment_status": "failed"}, "order_payment_newest"),
        ({"fulfillment_status": "partial"}, "order_fulfil_newest"),
        ({"customer": 1}, "order_customer_newest"),
        ({"q": "ada@exa"}, "order_email_prefix"),
        ({"q": "ada love"}, "order_name_prefix"),
    ],
)
def test_each_filter_can_use_its_index(filters, index):
    """The SQL the list runs matches an index (0003_staff_indexes for the search): with
    sequential scans priced out, PostgreSQL picks it. A changed expression (a cast, another
    JSON operator) would silently fall back to reading the whole table."""
    from django.db import connection

    from orders.selectors_staff import order_list_for_staff

    make_orders(3)
    sql, params = order_list_for_staff(filters=filters)[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_state_badges_are_named(manager):
    make_orders(1, status=Order.Status.PAID, payment_status=Order.PaymentStatus.PAID)
    html = manager.get(LIST).text
    for key in ("Order", "Payment", "Fulfillment"):
        assert f'<span class="status-pair__key">{key}</span> <span class="badge' in html


def test_the_customer_column_is_left_out_of_one_customers_embedded_list(manager):
    ada = Customer.objects.create(email="ada@example.net", full_name="Ada Lovelace")
    make_orders(2, customer=ada)
    embedded = manager.get(LIST, {"customer": ada.pk, "embed": "1"}).text
    assert '<th scope="col">Customer</th>' not in embedded
    assert 'class="o-cust"' not in embedded
    assert len(numbers(embedded)) == 2
    for page in (
        manager.get(LIST, {"customer": ada.pk}).text,
        manager.get(LIST, {"embed": "1"}).text,
    ):
        assert '<th scope="col">Customer</th>' in page
        assert page.count('class="o-cust"') == 2
