import re

import pytest
from django.template.loader import render_to_string

from tests.factories import ShopperFactory, StaffFactory
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.django_db


def test_home_has_header_search_account_cart_and_footer(
    client, django_assert_max_num_queries, warm_menu
):
    with django_assert_max_num_queries(2):
        response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert 'class="store-header"' in html
    assert 'role="search"' in html
    assert 'action="/search/"' in html
    assert 'href="/account/"' in html
    assert 'href="/cart/"' in html
    assert 'class="store-footer"' in html
    assert '<meta name="viewport"' in html


def test_pages_load_nothing_from_other_hosts(client):
    for path in ("/", "/search/?q=mug", "/cart/", "/account/login/", "/dashboard/login/"):
        html = client.get(path).text
        external = re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', html)
        assert external == [], (path, external)


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_search_echoes_the_query_safely(client):
    response = client.get("/search/", {"q": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_cart_page_explains_an_empty_cart(client):
    assert "Your cart is empty" in client.get("/cart/").text


def test_account_needs_sign_in_and_shows_the_shopper(client):
    assert client.get("/account/")["Location"].startswith("/account/login/?next=/account/")
    shopper = ShopperFactory(full_name="Ava Jensen")
    response = client.post("/account/login/", {"email": shopper.email, "password": PASSWORD})
    assert response["Location"] == "/account/"
    page = client.get("/account/").text
    assert "Ava Jensen" in page
    assert shopper.email in page


def test_account_sign_in_error_is_clear_and_throttled(client, settings):
    shopper = ShopperFactory()
    response = client.post("/account/login/", {"email": shopper.email, "password": "nope-nope"})
    assert "That email and password do not match an account." in response.text
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/account/login/", {"email": shopper.email, "password": "nope-nope"})
    response = client.post("/account/login/", {"email": shopper.email, "password": PASSWORD})
    assert "Too many failed attempts" in response.text


def test_account_sign_out_needs_post(client):
    client.force_login(ShopperFactory())
    response = client.get("/account/logout/")
    assert response.status_code == 405
    assert "This address only takes a form" in response.text
    assert client.post("/account/logout/")["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_missing_page_is_a_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "find that page" in response.text
    assert 'class="store-header"' in response.text


def test_missing_dashboard_page_keeps_the_dashboard_layout(client, roles, staff_login):
    staff_login(StaffFactory(role="Support"))
    response = client.get("/dashboard/no-such-page/")
    assert response.status_code == 404
    assert 'class="staff-nav"' in response.text


def test_server_error_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert "/static/css/base.css" in html


def test_server_error_answers_with_the_styled_page(client, settings):
    settings.ROOT_URLCONF = "tests.storefront.urls_boom"
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
