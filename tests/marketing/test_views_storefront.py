"""Links in the abandonment emails: recovery, unsubscribe (page and RFC 8058), open pixel."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from customers.records import customer_for_email
from marketing.abandonment import RECOVER_SALT, abandonment_send_due, unsubscribe_url
from marketing.models import AbandonmentEmail, Suppression
from marketing.views.storefront import PIXEL
from orders.models import Cart
from orders.services import cart_checkout_update, order_place
from tests.factories.orders import ADDRESS, ShippingMethodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed(clock, left_cart, django_capture_on_commit_callbacks):
    """A cart that got the first abandonment email; returns (cart, claim, message)."""
    start = clock.now
    cart = left_cart()
    clock.at(start, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        [claim_id] = abandonment_send_due()
    [message] = mail.outbox
    return cart, AbandonmentEmail.objects.get(pk=claim_id), message


def link(message, kind: str) -> str:
    found = re.search(rf"https?://[^/\s]+(/{kind}/[^\s]+/)", message.body)
    assert found, f"no {kind} link in the email"
    return found.group(1)


# --- Recovery link -----------------------------------------------------------------------------


def test_recovery_link_restores_the_cart_in_a_fresh_session_and_counts_the_click(emailed):
    cart, claim, message = emailed
    url = link(message, "cart/recover")
    phone = Client()  # another device: no session, not signed in
    response = phone.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:cart")
    assert phone.session["cart_token"] == cart.token
    claim.refresh_from_db()
    first_click = claim.clicked_at
    assert (claim.clicks, first_click is not None) == (1, True)
    phone.get(url)
    claim.refresh_from_db()
    assert (claim.clicks, claim.clicked_at) == (2, first_click)  # clicked once, two visits


def test_a_tampered_recovery_link_is_a_404_and_changes_nothing(emailed, left_cart):
    _cart, claim, message = emailed
    url = link(message, "cart/recover")
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = url.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    client = Client()
    response = client.get(tampered)
    assert response.status_code == 404
    assert "can't find that page" in response.content.decode()
    # Signed, but pairing this email with another cart: still nothing.
    other = left_cart(email="grace@example.net")
    forged = signing.dumps({"c": other.token, "e": claim.pk}, salt=RECOVER_SALT, compress=True)
    assert client.get(reverse("marketing:cart-recover", args=[forged])).status_code == 404
    assert client.get(reverse("marketing:cart-recover", args=["not-a-token"])).status_code == 404
    assert "cart_token" not in client.session
    claim.refresh_from_db()
    assert (claim.clicks, claim.clicked_at) == (0, None)


def test_a_recovery_link_older_than_thirty_days_restores_nothing(emailed, monkeypatch):
    import time

    _cart, claim, message = emailed
    url = link(message, "cart/recover")
    later = time.time() + 31 * 24 * 60 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    client = Client()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:home")
    assert "expired" in str(next(iter(get_messages(response.wsgi_request))))
    assert "cart_token" not in client.session
    claim.refresh_from_db()
    assert claim.clicks == 0


def test_recovering_an_ordered_cart_says_so_and_goes_to_the_shop(emailed):
    cart, _claim, message = emailed
    cart_checkout_update(
        cart=cart,
        shipping_address=dict(ADDRESS),
        shipping_method=ShippingMethodFactory(),
        payment_method="bank_transfer",
    )
    order_place(cart=Cart.objects.get(pk=cart.pk))
    client = Client()
    response = client.get(link(message, "cart/recover"))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:home")
    assert "cart_token" not in client.session
    [note] = get_messages(response.wsgi_request)
    assert "already been ordered" in str(note)


# --- Unsubscribe ----------------------------------------------------------------------------------


def test_unsubscribe_page_asks_first_then_opts_out(emailed):
    _cart, _claim, message = emailed
    customer = customer_for_email(email="ada@example.net")
    customer.accepts_marketing = True
    customer.save()
    url = link(message, "unsubscribe")
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)
    assert page.status_code == 200
    assert "Unsubscribe?" in page.content.decode()
    assert "ada@example.net" in page.content.decode()
    assert not Suppression.objects.exists()  # a GET (a link scanner) changes nothing
    csrf = page.cookies["csrftoken"].value
    done = client.post(url, {"csrfmiddlewaretoken": csrf})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert Suppression.objects.get().email == "ada@example.net"
    customer.refresh_from_db()
    assert customer.accepts_marketing is False
    assert customer.marketing_consent_source == "unsubscribe"


def test_one_click_unsubscribe_post_from_the_mail_client(emailed):
    """RFC 8058: the mail client POSTs to the List-Unsubscribe URL, no page, no CSRF token."""
    _cart, _claim, message = emailed
    header = message.extra_headers["List-Unsubscribe"]
    path = "/" + header.strip("<>").split("/", 3)[3]
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Suppression.objects.filter(email="ada@example.net").exists()


def test_a_tampered_unsubscribe_link_is_a_404_and_opts_nobody_out(db):
    url = unsubscribe_url(email="ada@example.net", claim_id=None)
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = url.replace(token, token[:-3] + "xyz").split("://", 1)[1].split("/", 1)[1]
    client = Client()
    assert client.get("/" + forged).status_code == 404
    assert client.post("/" + forged).status_code == 404
    assert not Suppression.objects.exists()


# --- Open pixel -----------------------------------------------------------------------------------


def test_the_open_pixel_counts_once_per_email(emailed, clock):
    _cart, claim, message = emailed
    html = message.alternatives[0].content
    path = re.search(r'src="https?://[^/"]+(/email/open/[^"]+\.gif)"', html).group(1)
    client = Client()
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == PIXEL
    assert PIXEL.startswith(b"GIF89a")
    assert (int.from_bytes(PIXEL[6:8], "little"), int.from_bytes(PIXEL[8:10], "little")) == (1, 1)
    claim.refresh_from_db()
    opened = claim.opened_at
    assert opened == clock.now
    clock.advance(hours=3)
    client.get(path)
    claim.refresh_from_db()
    assert claim.opened_at == opened


def test_a_tampered_pixel_still_answers_a_gif_and_counts_nothing(emailed):
    _cart, claim, _message = emailed
    response = Client().get(reverse("marketing:email-open", args=[f"{claim.pk}:forged"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    claim.refresh_from_db()
    assert claim.opened_at is None
