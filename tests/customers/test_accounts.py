"""Shopper accounts: sign up, email confirmation (claiming past orders), sign in and out,
password reset, and the account page with marketing consent."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.utils import timezone

from customers.models import Customer, User
from customers.records import customer_for_email
from customers.selectors import email_confirmation_url
from customers.services import user_email_confirm
from tests.factories import ShopperFactory, StaffFactory
from tests.factories.customers import CustomerFactory
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.django_db
SIGNUP = "/account/signup/"
GOOD = {
    "full_name": "Ada Lovelace",
    "email": "Ada@Example.net",
    "password": "analytical-engine-1843",
}


def sign_up(client, capture, **overrides):
    with capture(execute=True):
        return client.post(SIGNUP, {**GOOD, **overrides})


def link_in(message) -> str:
    return re.search(r"http://\S+", message.body).group(0)


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


# --- Sign up --------------------------------------------------------------------------------


def test_signup_page_renders(client):
    response = client.get(SIGNUP)
    assert response.status_code == 200
    assert 'name="accepts_marketing"' in response.text
    assert 'autocomplete="new-password"' in response.text


def test_sign_up_creates_a_signed_in_unconfirmed_shopper_and_mails_a_link(
    client, django_capture_on_commit_callbacks
):
    response = sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    user = User.objects.get()
    assert user.email == "ada@example.net"
    assert not user.is_staff
    assert user.email_confirmed_at is None
    assert client.session["_auth_user_id"] == str(user.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.net"]
    assert "/account/confirm/" in link_in(mail.outbox[0])
    # Nothing claimed before confirmation: no customer record linked to the account.
    assert not Customer.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "short", "too short"),
        ("password", "12345678901", "entirely numeric"),
        ("password", "password123", "too common"),
        ("email", "not-an-email", "valid email"),
        ("full_name", "", "required"),
    ],
)
def test_bad_sign_up_input_is_explained_and_writes_nothing(
    client, django_capture_on_commit_callbacks, field, value, message
):
    response = sign_up(client, django_capture_on_commit_callbacks, **{field: value})
    assert response.status_code == 200
    assert message in response.text
    assert not User.objects.exists()
    assert mail.outbox == []


def test_sign_up_with_a_taken_email_is_refused(client, django_capture_on_commit_callbacks):
    ShopperFactory(email="ada@example.net")
    response = sign_up(client, django_capture_on_commit_callbacks)
    assert "An account with this email already exists" in response.text
    assert User.objects.count() == 1


def test_a_signed_in_shopper_is_sent_from_sign_up_to_the_account(client):
    client.force_login(ShopperFactory())
    assert client.get(SIGNUP)["Location"] == "/account/"


# --- Email confirmation and claiming past orders ------------------------------------------


def test_confirming_links_the_customer_record_of_past_guest_orders(
    client, django_capture_on_commit_callbacks
):
    guest = CustomerFactory(email="ada@example.net", orders_count=2)
    sign_up(client, django_capture_on_commit_callbacks)
    user = User.objects.get()
    guest.refresh_from_db()
    assert guest.user is None

    response = client.get(path_of(link_in(mail.outbox[0])))
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    guest.refresh_from_db()
    user.refresh_from_db()
    assert guest.user == user
    assert user.email_confirmed_at is not None
    assert Customer.objects.count() == 1


def test_confirming_without_a_past_record_makes_one(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    client.logout()
    response = client.get(path_of(link_in(mail.outbox[0])))
    assert response["Location"].startswith("/account/login/")
    customer = Customer.objects.get()
    assert customer.user == User.objects.get()
    assert customer.full_name == "Ada Lovelace"


def test_an_impostor_who_signs_up_with_someone_elses_email_claims_nothing(
    client, django_capture_on_commit_callbacks
):
    victim = CustomerFactory(email="ada@example.net", orders_count=3)
    sign_up(client, django_capture_on_commit_callbacks)
    impostor = User.objects.get()
    # The impostor never gets the email; what they can do without it claims nothing:
    # the account page, a checkout by the orders app with that email.
    assert client.get("/account/").status_code == 200
    customer_for_email(email="ada@example.net", user=impostor)
    victim.refresh_from_db()
    assert victim.user is None
    assert client.get("/account/addresses/")["Location"] == "/account/"


def test_a_confirmed_account_claims_only_its_own_address(client):
    user = ShopperFactory(email="ben@example.net", email_confirmed_at=timezone.now())
    other = CustomerFactory(email="someone-else@example.net")
    customer_for_email(email="someone-else@example.net", user=user)
    other.refresh_from_db()
    assert other.user is None
    own = customer_for_email(email="BEN@example.net", user=user)
    assert own.user == user


@pytest.mark.parametrize("kind", ["forged", "tampered", "expired", "email changed"])
def test_a_bad_confirmation_link_is_refused_and_claims_nothing(client, kind, monkeypatch):
    user = ShopperFactory(email="cy@example.net")
    CustomerFactory(email="cy@example.net")
    token = email_confirmation_url(user=user).rstrip("/").rsplit("/", 1)[1]
    if kind == "forged":
        token = signing.dumps({"u": user.pk, "e": user.email}, salt="other", key="x" * 50)
    elif kind == "tampered":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif kind == "expired":
        monkeypatch.setattr("customers.services.EMAIL_CONFIRM_SECONDS", -1)
    else:
        User.objects.filter(pk=user.pk).update(email="new@example.net")
    response = client.get(f"/account/confirm/{token}/")
    assert response.status_code == 400
    assert "link" in response.text
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    assert not Customer.objects.filter(user=user).exists()


def test_confirming_twice_is_harmless():
    user = ShopperFactory()
    token = email_confirmation_url(user=user).rstrip("/").rsplit("/", 1)[1]
    user_email_confirm(token=token)
    user_email_confirm(token=token)
    assert Customer.objects.filter(user=user).count() == 1


def test_the_link_can_be_sent_again_a_few_times(client, django_capture_on_commit_callbacks):
    user = ShopperFactory()
    client.force_login(user)
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/account/confirm/resend/", follow=True)
    assert len(mail.outbox) == 5
    assert "Too many requests" in response.text


def test_resend_needs_a_signed_in_shopper(client):
    response = client.post("/account/confirm/resend/")
    assert response["Location"].startswith("/account/login/")


# --- Marketing consent ----------------------------------------------------------------------


def test_consent_ticked_at_sign_up_is_recorded_on_confirmation(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks, accepts_marketing="on")
    assert not Customer.objects.exists()
    client.get(path_of(link_in(mail.outbox[0])))
    customer = Customer.objects.get()
    assert customer.accepts_marketing
    assert customer.marketing_consent_at is not None
    assert customer.marketing_consent_source == "signup"


def test_an_unticked_box_at_sign_up_records_a_refusal_on_a_new_record(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    client.get(path_of(link_in(mail.outbox[0])))
    customer = Customer.objects.get()
    assert not customer.accepts_marketing
    assert customer.marketing_consent_source == "signup"


def confirmed_shopper(client) -> tuple[User, Customer]:
    user = ShopperFactory(email_confirmed_at=timezone.now())
    customer = customer_for_email(email=user.email, user=user)
    client.force_login(user)
    return user, customer


def test_account_page_shows_details_consent_and_links(client):
    user, _ = confirmed_shopper(client)
    page = client.get("/account/").text
    assert user.email in page
    assert 'href="/account/orders/"' in page
    assert 'href="/account/addresses/"' in page
    assert 'name="accepts_marketing"' in page
    assert "Confirmed" in page


def test_an_unconfirmed_account_page_asks_for_confirmation(client):
    client.force_login(ShopperFactory())
    page = client.get("/account/").text
    assert "Confirm your email." in page
    assert 'name="accepts_marketing"' not in page
    assert 'href="/account/addresses/"' not in page


def test_consent_toggle_records_the_time_and_source(client):
    _, customer = confirmed_shopper(client)
    response = client.post("/account/consent/", {"accepts_marketing": "on"})
    assert response["Location"] == "/account/"
    customer.refresh_from_db()
    assert customer.accepts_marketing
    assert customer.marketing_consent_source == "account"
    first = customer.marketing_consent_at

    response = client.post("/account/consent/", {}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="consent"' in response.text
    assert "<html" not in response.text
    assert "no marketing email" in response.text
    customer.refresh_from_db()
    assert not customer.accepts_marketing
    assert customer.marketing_consent_at >= first


def test_consent_needs_a_claimed_record(client):
    client.force_login(ShopperFactory())
    assert client.post("/account/consent/", {"accepts_marketing": "on"}).status_code == 404
    assert not Customer.objects.exists()


def test_account_pages_send_anonymous_visitors_to_sign_in(client):
    for path in ("/account/", "/account/addresses/", "/account/addresses/new/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/login/?next=")


# --- Sign in and out ------------------------------------------------------------------------


def test_shopper_signs_in_and_out(client):
    user = ShopperFactory()
    response = client.post("/account/login/", {"email": user.email, "password": PASSWORD})
    assert response["Location"] == "/account/"
    assert client.session["_auth_user_id"] == str(user.pk)
    response = client.post("/account/logout/")
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_staff_are_turned_away_from_the_storefront_sign_in(client, roles):
    staff = StaffFactory(role="Manager")
    response = client.post("/account/login/", {"email": staff.email, "password": PASSWORD})
    assert "This is a staff account" in response.text
    assert "_auth_user_id" not in client.session


def test_login_page_links_to_sign_up_and_reset(client):
    page = client.get("/account/login/").text
    assert 'href="/account/signup/' in page
    assert 'href="/account/password-reset/"' in page


# --- Password reset -------------------------------------------------------------------------


def test_password_reset_mails_a_link_that_sets_a_new_password(
    client, django_capture_on_commit_callbacks
):
    user = ShopperFactory(email="dora@example.net")
    CustomerFactory(email="dora@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/password-reset/", {"email": "DORA@example.net"})
    assert response["Location"] == "/account/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = path_of(link_in(mail.outbox[0]))
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"},
    )
    assert response["Location"] == "/account/password-reset/complete/"
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-9")
    # The link came through the mailbox: the address is proven and its orders claimed.
    assert user.email_confirmed_at is not None
    assert Customer.objects.get(email="dora@example.net").user == user


def test_password_reset_answers_the_same_for_unknown_and_staff_addresses(
    client, roles, django_capture_on_commit_callbacks
):
    staff = StaffFactory(role="Manager")
    for email in ("nobody@example.net", staff.email):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/account/password-reset/", {"email": email})
        assert response["Location"] == "/account/password-reset/sent/"
    assert mail.outbox == []


def test_a_staff_reset_token_does_not_work_on_the_storefront(client, roles):
    from customers.selectors import staff_password_reset_url

    staff = StaffFactory(role="Manager")
    url = staff_password_reset_url(user=staff).replace("/dashboard/", "/account/")
    response = client.get(path_of(url), follow=True)
    assert "This link has expired" in response.text


def test_a_bad_new_password_is_explained_and_not_saved(client, django_capture_on_commit_callbacks):
    user = ShopperFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/password-reset/", {"email": user.email})
    response = client.get(path_of(link_in(mail.outbox[0])), follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "abc", "new_password2": "abd"})
    assert response.status_code == 200
    assert re.search(r"didn.t match", response.text)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_requests_are_throttled(client, django_capture_on_commit_callbacks):
    user = ShopperFactory()
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/account/password-reset/", {"email": user.email})
    assert response.status_code == 200
    assert "Too many" in response.text
    assert len(mail.outbox) == 5
