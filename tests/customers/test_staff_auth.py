import re

import pytest
from django.core import mail

from config.staff import STAFF_SESSION_KEY
from customers.models import User
from tests.factories import ShopperFactory, StaffFactory
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/dashboard/login/"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"email": email, "password": password, **extra})


def test_login_page_renders(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b"Sign in to the dashboard" in response.content


def test_staff_sign_in_opens_the_dashboard(client, roles):
    user = StaffFactory(role="Manager")
    response = sign_in(client, user.email.upper())
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.session[STAFF_SESSION_KEY] is True
    assert client.get("/dashboard/").status_code == 200


def test_wrong_password_gets_a_clear_error_and_no_session(client, roles):
    user = StaffFactory(role="Manager")
    response = sign_in(client, user.email, "wrong-password-here")
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.text
    assert "_auth_user_id" not in client.session


def test_a_shopper_cannot_sign_in_to_the_dashboard(client):
    shopper = ShopperFactory()
    response = sign_in(client, shopper.email)
    assert "That email and password do not match an account." in response.text
    assert "_auth_user_id" not in client.session


def test_a_missing_field_is_reported_beside_it(client):
    response = client.post(LOGIN, {"email": "", "password": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.text


def test_next_is_followed_only_within_the_site(client, roles):
    user = StaffFactory(role="Manager")
    response = sign_in(client, user.email, next="/dashboard/orders/")
    assert response["Location"] == "/dashboard/orders/"
    client.logout()
    response = sign_in(client, user.email, next="https://evil.example/phish")
    assert response["Location"] == "/dashboard/"


def test_ten_failures_lock_the_account_from_that_address(client, roles, settings):
    user = StaffFactory(role="Manager")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, user.email, "wrong-password-here")
    response = sign_in(client, user.email)  # the right password, too late
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in response.text
    assert "_auth_user_id" not in client.session
    # Another address is not locked out: a stranger cannot lock the owner out everywhere.
    response = client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302


def test_the_lock_lifts_when_the_window_passes(client, roles, settings, monkeypatch):
    import customers.throttle as throttle

    user = StaffFactory(role="Manager")
    now = 1_000_000.0
    monkeypatch.setattr(throttle.time, "time", lambda: now)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, user.email, "wrong-password-here")
    assert "Too many" in sign_in(client, user.email).text
    now += settings.LOGIN_FAILURE_WINDOW_SECONDS + 1
    assert sign_in(client, user.email).status_code == 302


def test_nine_failures_then_success_resets_the_count(client, roles, settings):
    user = StaffFactory(role="Manager")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.email, "wrong-password-here")
    assert sign_in(client, user.email).status_code == 302
    client.post("/dashboard/logout/")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.email, "wrong-password-here")
    assert sign_in(client, user.email).status_code == 302


def test_one_address_spraying_many_accounts_is_stopped(client, settings):
    for index in range(settings.LOGIN_FAILURE_LIMIT * 5):
        sign_in(client, f"guess{index}@example.com", "wrong-password-here")
    response = sign_in(client, "fresh@example.com", "wrong-password-here")
    assert "Too many failed sign-in attempts" in response.text


def test_logout_needs_post_and_ends_the_session(client, roles, staff_login):
    staff_login(StaffFactory(role="Manager"))
    assert client.get("/dashboard/logout/").status_code == 405
    response = client.post("/dashboard/logout/")
    assert response["Location"] == LOGIN
    assert client.get("/dashboard/").status_code == 302


def test_signing_in_on_the_storefront_does_not_open_the_dashboard(client, roles):
    user = StaffFactory(role="Owner")
    client.post("/account/login/", {"email": user.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_password_reset_mails_a_link_that_sets_a_new_password(client, roles):
    user = StaffFactory(role="Support")
    response = client.post("/dashboard/password-reset/", {"email": user.email})
    assert response["Location"] == "/dashboard/password-reset/sent/"
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.alternatives, "the reset email has an HTML part"
    link = re.search(r"https?://[^/\s]+(/dashboard/password-reset/\S+/)", message.body)[1]
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    new = "a-brand-new-passphrase"
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert response["Location"] == "/dashboard/password-reset/complete/"
    user.refresh_from_db()
    assert user.check_password(new)


def test_password_reset_sends_nothing_for_shoppers_or_strangers(client):
    shopper = ShopperFactory()
    client.post("/dashboard/password-reset/", {"email": shopper.email})
    response = client.post("/dashboard/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302  # same answer: no account enumeration
    assert mail.outbox == []


def test_staff_passwords_need_twelve_characters(client, roles, staff_login):
    user = StaffFactory(role="Support")
    staff_login(user)
    response = client.post(
        "/dashboard/account/password/",
        {"old_password": PASSWORD, "new_password1": "short-pw1", "new_password2": "short-pw1"},
    )
    assert "Staff passwords must be at least 12 characters long." in response.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_one_time_password_must_be_changed_before_anything_else(client, roles):
    from customers.services import staff_create

    user, one_time = staff_create(email="new@example.com", role="Manager")
    response = sign_in(client, user.email, one_time)
    assert response.status_code == 302
    response = client.get("/dashboard/orders/")
    assert response["Location"] == "/dashboard/account/password/"
    new = "my-own-long-passphrase"
    client.post(
        "/dashboard/account/password/",
        {"old_password": one_time, "new_password1": new, "new_password2": new},
    )
    user.refresh_from_db()
    assert not user.password_change_required
    assert client.get("/dashboard/orders/").status_code == 200  # still signed in


def test_shopper_passwords_need_eight_characters():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    validate_password("long-enough-1", User(email="a@example.net"))
    with pytest.raises(ValidationError):
        validate_password("short1!", User(email="a@example.net"))
