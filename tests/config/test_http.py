import pytest
from django.test import RequestFactory

from config.http import client_ip


@pytest.fixture
def request_from():
    def build(remote: str, forwarded: str | None = None):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
        return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)

    return build


def test_without_trusted_proxies_the_header_is_ignored(settings, request_from):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("10.0.0.5", "198.51.100.7")) == "10.0.0.5"


def test_behind_one_proxy_the_last_entry_is_the_client(settings, request_from):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged the first entry; the proxy appended what it really saw.
    request = request_from("10.0.0.5", "1.2.3.4, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"


def test_a_missing_header_falls_back_to_the_socket_address(settings, request_from):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from("10.0.0.5", "198.51.100.7")) == "10.0.0.5"


@pytest.mark.django_db
def test_throttling_counts_clients_not_the_proxy(client, settings, roles):
    from tests.factories import StaffFactory
    from tests.factories.users import PASSWORD

    settings.TRUSTED_PROXY_COUNT = 1
    user = StaffFactory(role="Manager")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(
            "/dashboard/login/",
            {"email": user.email, "password": "wrong-password-here"},
            headers={"x-forwarded-for": "203.0.113.66"},
        )
    # Same proxy, another client: not locked out by the attacker's failures.
    response = client.post(
        "/dashboard/login/",
        {"email": user.email, "password": PASSWORD},
        headers={"x-forwarded-for": "198.51.100.7"},
    )
    assert response.status_code == 302
