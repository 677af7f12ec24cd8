"""The customers dashboard: list with search, filters, sorts and pages; detail with figures,
consent, addresses, notes and tags; who may see and change what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer, CustomerTag
from tests.factories import ShopperFactory, StaffFactory
from tests.factories.customers import AddressFactory, CustomerFactory, CustomerTagFactory

pytestmark = pytest.mark.django_db
LIST = "/dashboard/customers/"
HTMX_ROWS = {"HX-Request": "true", "HX-Target": "customer-rows"}


@pytest.fixture
def support(roles, staff_login):
    user = StaffFactory(role="Support")
    staff_login(user)
    return user


def names(response) -> list[str]:
    return [c.email for c in response.context["page"].object_list]


# --- Access ---------------------------------------------------------------------------------


def customer_urls(customer: Customer, tag: CustomerTag) -> list[tuple[str, str]]:
    base = f"{LIST}{customer.pk}/"
    return [
        ("get", LIST),
        ("get", base),
        ("post", f"{base}note/"),
        ("post", f"{base}tags/"),
        ("post", f"{base}tags/{tag.pk}/remove/"),
    ]


def test_anonymous_visitors_and_shoppers_are_sent_to_sign_in(client):
    customer, tag = CustomerFactory(), CustomerTagFactory()
    for method, url in customer_urls(customer, tag):
        response = getattr(client, method)(url)
        assert response["Location"].startswith("/dashboard/login/?next="), url
    client.force_login(ShopperFactory())
    for method, url in customer_urls(customer, tag):
        response = getattr(client, method)(url)
        assert response["Location"].startswith("/dashboard/login/"), url


def test_warehouse_gets_403_everywhere(client, roles, staff_login):
    staff_login(StaffFactory(role="Warehouse"))
    customer, tag = CustomerFactory(note="secret"), CustomerTagFactory()
    for method, url in customer_urls(customer, tag):
        response = getattr(client, method)(url, {"note": "x", "name": "y"})
        assert response.status_code == 403, url
    customer.refresh_from_db()
    assert customer.note == "secret"


def test_marketing_reads_but_cannot_change(client, roles, staff_login):
    staff_login(StaffFactory(role="Marketing"))
    customer, tag = CustomerFactory(note="keep"), CustomerTagFactory()
    assert client.get(LIST).status_code == 200
    page = client.get(f"{LIST}{customer.pk}/")
    assert page.status_code == 200
    assert "keep" in page.text
    assert 'name="note"' not in page.text
    for _, url in customer_urls(customer, tag)[2:]:
        assert client.post(url, {"note": "changed", "name": "vip"}).status_code == 403
    customer.refresh_from_db()
    assert customer.note == "keep"
    assert not customer.tags.exists()


def test_an_unknown_customer_is_404(client, support):
    assert client.get(f"{LIST}999999/").status_code == 404


# --- List -----------------------------------------------------------------------------------


def test_the_list_shows_customers_with_figures(client, support):
    CustomerFactory(
        email="ada@example.net", full_name="Ada Lovelace", orders_count=3, total_spent=120
    )
    response = client.get(LIST)
    assert response.status_code == 200
    assert "Ada Lovelace" in response.text
    assert "120.00" in response.text
    assert 'id="customer-rows"' in response.text
    assert "<html" in response.text


def test_the_rows_answer_htmx_alone(client, support):
    CustomerFactory(email="ada@example.net")
    response = client.get(f"{LIST}?q=ada", headers=HTMX_ROWS)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="customer-rows">')
    assert "ada@example.net" in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("LOVELACE", ["ada@example.net"]),
        ("bob@", ["bob@example.net"]),
        ("555-01", ["bob@example.net"]),
    ],
)
def test_search_by_email_name_or_phone(client, support, query, expected):
    CustomerFactory(email="ada@example.net", full_name="Ada Lovelace")
    CustomerFactory(email="bob@example.net", full_name="Bob", phone="+1 555-0100")
    assert names(client.get(LIST, {"q": query})) == expected


def test_filters(client, support):
    user = ShopperFactory()
    vip = CustomerTagFactory(name="vip")
    account = CustomerFactory(email="account@example.net", user=user, orders_count=1)
    news = CustomerFactory(email="news@example.net", accepts_marketing=True)
    tagged = CustomerFactory(email="tagged@example.net", orders_count=2)
    tagged.tags.add(vip)
    assert names(client.get(LIST, {"account": "yes"})) == [account.email]
    assert account.email not in names(client.get(LIST, {"account": "no"}))
    assert names(client.get(LIST, {"marketing": "yes"})) == [news.email]
    assert names(client.get(LIST, {"tag": "vip"})) == [tagged.email]
    assert set(names(client.get(LIST, {"ordered": "yes"}))) == {account.email, tagged.email}
    assert names(client.get(LIST, {"ordered": "no"})) == [news.email]


def test_a_bad_filter_value_is_ignored_not_an_error(client, support):
    CustomerFactory()
    response = client.get(LIST, {"tag": "no-such-tag", "sort": "drop table", "account": "??"})
    assert response.status_code == 200
    assert len(names(response)) == 1


def test_sorts(client, support):
    now = timezone.now()
    big = CustomerFactory(
        email="big@example.net",
        total_spent=Decimal("900"),
        orders_count=2,
        last_order_at=now - timedelta(days=30),
        created_at=now - timedelta(days=3),
    )
    many = CustomerFactory(
        email="many@example.net",
        total_spent=Decimal("50"),
        orders_count=9,
        last_order_at=now - timedelta(days=60),
        created_at=now - timedelta(days=2),
    )
    recent = CustomerFactory(
        email="recent@example.net",
        total_spent=Decimal("10"),
        orders_count=1,
        last_order_at=now,
        created_at=now - timedelta(days=1),
    )
    never = CustomerFactory(email="never@example.net", created_at=now)
    assert names(client.get(LIST))[0] == never.email
    assert names(client.get(LIST, {"sort": "spent"}))[0] == big.email
    assert names(client.get(LIST, {"sort": "orders"}))[0] == many.email
    assert names(client.get(LIST, {"sort": "last_order"})) == [
        recent.email,
        big.email,
        many.email,
        never.email,
    ]


def test_pagination_keeps_the_filters(client, support):
    CustomerFactory.create_batch(51, accepts_marketing=True)
    response = client.get(LIST, {"marketing": "yes"})
    assert len(names(response)) == 50
    assert "marketing=yes&amp;page=2" in response.text
    assert len(names(client.get(LIST, {"marketing": "yes", "page": 2}))) == 1


def test_the_list_queries_do_not_grow_with_rows(client, support, django_assert_max_num_queries):
    tags = CustomerTagFactory.create_batch(3)
    for customer in CustomerFactory.create_batch(30):
        customer.tags.add(*tags)
    # Session, user, permissions (user + groups), count, page, tags of the page,
    # tag choices of the filter: 8 with 5 rows or 50.
    with django_assert_max_num_queries(8):
        assert client.get(LIST).status_code == 200
    with django_assert_max_num_queries(8):
        assert (
            client.get(LIST, {"q": "buyer", "sort": "spent"}, headers=HTMX_ROWS).status_code == 200
        )


# --- Detail ---------------------------------------------------------------------------------


def test_detail_shows_figures_consent_addresses_and_orders_hook(client, support):
    first = timezone.now() - timedelta(days=100)
    customer = CustomerFactory(
        full_name="Ada Lovelace",
        orders_count=4,
        total_spent=Decimal("200.00"),
        first_order_at=first,
        last_order_at=timezone.now(),
        accepts_marketing=True,
        marketing_consent_at=first,
        marketing_consent_source="checkout",
    )
    AddressFactory(customer=customer, city="Leipzig", country="DE", is_default_shipping=True)
    page = client.get(f"{LIST}{customer.pk}/").text
    assert "200.00" in page
    assert "50.00" in page  # average order value
    assert first.strftime("%-d %b %Y") in page
    assert "checkout" in page
    assert "Leipzig" in page
    assert "Germany" in page
    assert f'hx-get="/dashboard/orders/?customer={customer.pk}&embed=1"' in page
    assert f'href="/dashboard/orders/?customer={customer.pk}"' in page


def test_detail_of_a_customer_without_orders(client, support):
    customer = CustomerFactory()
    page = client.get(f"{LIST}{customer.pk}/").text
    assert "No saved addresses" in page
    assert "Never asked" in page


def test_detail_queries_stay_few(client, support, django_assert_max_num_queries):
    customer = CustomerFactory()
    AddressFactory.create_batch(3, customer=customer)
    customer.tags.add(*CustomerTagFactory.create_batch(3))
    with django_assert_max_num_queries(8):
        assert client.get(f"{LIST}{customer.pk}/").status_code == 200


# --- Notes and tags -------------------------------------------------------------------------


def test_saving_a_note_with_htmx_answers_the_region(client, support):
    customer = CustomerFactory()
    response = client.post(
        f"{LIST}{customer.pk}/note/",
        {"note": "  Prefers phone calls. "},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="customer-note"' in response.text
    assert "Note saved." in response.text
    assert "<html" not in response.text
    assert "customer-updated" in response["HX-Trigger"]
    customer.refresh_from_db()
    assert customer.note == "Prefers phone calls."


def test_saving_a_note_without_js_redirects(client, support):
    customer = CustomerFactory()
    response = client.post(f"{LIST}{customer.pk}/note/", {"note": "VIP"})
    assert response["Location"] == f"{LIST}{customer.pk}/"
    customer.refresh_from_db()
    assert customer.note == "VIP"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_too_long_note_is_refused_and_nothing_changes(client, support, htmx):
    customer = CustomerFactory(note="old")
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"{LIST}{customer.pk}/note/", {"note": "x" * 5001}, headers=headers)
    assert response.status_code == 400
    assert "at most 5000 characters" in response.text
    customer.refresh_from_db()
    assert customer.note == "old"


def test_adding_tags_reuses_one_in_any_case(client, support):
    customer = CustomerFactory()
    other = CustomerFactory()
    response = client.post(
        f"{LIST}{customer.pk}/tags/", {"name": " Wholesale "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="customer-tags"' in response.text
    assert "Wholesale" in response.text
    assert "<html" not in response.text
    client.post(f"{LIST}{other.pk}/tags/", {"name": "wholesale"})
    assert CustomerTag.objects.count() == 1
    assert list(other.tags.values_list("name", flat=True)) == ["Wholesale"]


@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_tag_is_refused(client, support, htmx):
    customer = CustomerFactory()
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"{LIST}{customer.pk}/tags/", {"name": "   "}, headers=headers)
    assert response.status_code == 400
    assert "Type a tag name." in response.text
    assert not CustomerTag.objects.exists()


def test_a_too_long_tag_is_refused(client, support):
    customer = CustomerFactory()
    response = client.post(f"{LIST}{customer.pk}/tags/", {"name": "x" * 41})
    assert response.status_code == 400
    assert not CustomerTag.objects.exists()


def test_removing_a_tag(client, support):
    customer = CustomerFactory()
    tag = CustomerTagFactory(name="vip")
    customer.tags.add(tag)
    response = client.post(
        f"{LIST}{customer.pk}/tags/{tag.pk}/remove/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "No tags yet." in response.text
    assert not customer.tags.exists()
    assert CustomerTag.objects.filter(pk=tag.pk).exists()
    response = client.post(f"{LIST}{customer.pk}/tags/{tag.pk}/remove/")
    assert response["Location"] == f"{LIST}{customer.pk}/"


def test_the_staff_nav_entry_points_at_the_list(client, support):
    nav = client.get(LIST).text.split('<nav class="staff-nav"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{LIST}" aria-current="page"' in nav
