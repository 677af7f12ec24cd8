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
    assert "Too many failed attempts. Try again in" in response.text
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
    assert "Too many failed attempts" in response.text


def test_logout_needs_post_and_ends_the_session(client, roles, staff_login):
    staff_login(StaffFactory(role="Manager"))
    assert client.get("/dashboard/logout/").status_code == 405
    response = client.post("/dashboard/logout/")
    assert response["Location"] == LOGIN
    assert client.get("/dashboard/").status_code == 302


def test_the_storefront_turns_staff_away_to_the_dashboard(client, roles):
    user = StaffFactory(role="Owner")
    response = client.post("/account/login/", {"email": user.email, "password": PASSWORD})
    assert "This is a staff account: sign in on the dashboard." in response.text
    assert "_auth_user_id" not in client.session


def test_a_session_without_the_staff_sign_in_sees_no_dashboard(client, roles):
    client.force_login(StaffFactory(role="Owner"))  # signed in, but not through the dashboard
    response = client.get("/dashboard/")
    assert response["Location"].startswith(LOGIN)
    page = client.get("/dashboard/no-such-page/")
    assert page.status_code == 404
    assert 'class="staff-nav"' not in page.text


def test_dashboard_pages_are_never_cached(client, roles, staff_login):
    staff_login(StaffFactory(role="Manager"))
    response = client.get("/dashboard/")
    assert "no-store" in response["Cache-Control"]


def test_a_staff_sign_in_expires_sooner_than_a_shoppers(client, roles, settings):
    user = StaffFactory(role="Manager")
    sign_in(client, user.email)
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_SECONDS
    assert settings.STAFF_SESSION_SECONDS < settings.SESSION_COOKIE_AGE


def test_failures_are_counted_exactly_under_parallel_attempts(db, settings):
    """Counting is add + incr in the cache, so parallel requests cannot lose updates.

    Redis (production, CI) and local memory increment atomically; the file cache used by
    `make run` without Redis does not, which one developer machine can live with.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.test import RequestFactory

    from customers.throttle import Throttle

    if not settings.REDIS_URL:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.5")
    throttle = Throttle.for_password(request, "target@example.com")
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda _: throttle.hit(), range(40)))
    assert waits.count(0) == 10  # exactly the limit got through, however they interleaved


def test_ipv6_clients_are_counted_per_64(client, roles, settings):
    user = StaffFactory(role="Manager")
    for host in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"email": user.email, "password": "wrong-password-here"},
            REMOTE_ADDR=f"2001:db8:1:2::{host + 1:x}",
        )
    response = client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="2001:db8:1:2::ffff"
    )
    assert "Too many failed attempts" in response.text


def test_one_account_guessed_from_many_addresses_is_stopped(client, roles, settings):
    user = StaffFactory(role="Manager")
    for index in range(settings.LOGIN_FAILURE_LIMIT * 5):
        client.post(
            LOGIN,
            {"email": user.email, "password": "wrong-password-here"},
            REMOTE_ADDR=f"198.51.100.{index % 250 + 1}",
        )
    response = client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.77"
    )
    assert "Too many failed attempts" in response.text


def test_password_reset_mails_a_link_that_sets_a_new_password(
    client, roles, django_capture_on_commit_callbacks
):
    user = StaffFactory(role="Support")
    with django_capture_on_commit_callbacks(execute=True):
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


def test_password_reset_answers_alike_and_mails_off_the_request(
    client, roles, django_capture_on_commit_callbacks
):
    """The reply, and the work done during it, are the same for staff, shoppers and
    strangers: the mail is sent by a worker after the response."""
    staff = StaffFactory(role="Support")
    shopper = ShopperFactory()
    answers = {}
    for email in (staff.email, shopper.email, "nobody@example.com"):
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post("/dashboard/password-reset/", {"email": email})
        answers[email] = (response.status_code, response["Location"], len(callbacks))
    assert answers[staff.email] == (302, "/dashboard/password-reset/sent/", 1)
    assert answers[shopper.email] == (302, "/dashboard/password-reset/sent/", 0)
    assert answers["nobody@example.com"] == (302, "/dashboard/password-reset/sent/", 0)
    assert mail.outbox == []  # nothing was sent inside the request


def test_password_reset_is_throttled_per_address_and_email(
    client, roles, django_capture_on_commit_callbacks
):
    staff = StaffFactory(role="Support")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            client.post("/dashboard/password-reset/", {"email": staff.email})
        response = client.post("/dashboard/password-reset/", {"email": staff.email})
    assert response.status_code == 200
    assert "Too many failed attempts" in response.text
    assert len(mail.outbox) == 5


def test_staff_invited_by_link_can_ask_for_a_new_one(
    client, roles, django_capture_on_commit_callbacks
):
    from customers.services import staff_invite

    user = staff_invite(email="invited@example.com", role="Warehouse")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/dashboard/password-reset/", {"email": user.email})
    assert len(mail.outbox) == 1


def test_reset_mail_is_plain_text_without_html_escapes(settings, roles):
    from customers.services import staff_password_reset_send

    settings.STORE_NAME = "Ben & Jerry's"
    user = StaffFactory(role="Support", email="o'neil@example.com")
    assert staff_password_reset_send(user_id=user.pk)
    [message] = mail.outbox
    assert message.subject == "Reset your Ben & Jerry's dashboard password"
    assert "o'neil@example.com" in message.body
    assert "&amp;" in message.alternatives[0].content  # the HTML part stays escaped


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


def test_wrong_current_password_guesses_are_throttled(client, roles, staff_login, settings):
    user = StaffFactory(role="Support")
    staff_login(user)
    data = {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"}
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/dashboard/account/password/", {"old_password": "guess-guess", **data})
    response = client.post("/dashboard/account/password/", {"old_password": PASSWORD, **data})
    assert "Too many failed attempts" in response.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_shopper_passwords_need_eight_characters():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    validate_password("long-enough-1", User(email="a@example.net"))
    with pytest.raises(ValidationError):
        validate_password("short1!", User(email="a@example.net"))
