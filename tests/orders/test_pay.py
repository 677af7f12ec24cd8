"""The pay page: Stripe's Payment Element or manual instructions, retry after a failure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse

from orders.emails import STATUS_LINK_SALT
from orders.models import Order, Payment
from orders.services import order_cancel, order_hold, order_place, payment_status_set
from tests.factories import VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart
from tests.fakes.stripe_orders import stripe_order_place
from tests.fakes.stripe_server import PUBLISHABLE_KEY, stripe_fake_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _token(order: Order) -> str:
    return signing.dumps({"n": order.number, "s": order.secret}, salt=STATUS_LINK_SALT)


def _url(order: Order) -> str:
    return reverse("orders:pay", args=[_token(order)])


def _card_order(stripe_fake) -> Order:
    variant = VariantFactory(price=Decimal("19.99"))
    stock(variant, WarehouseFactory(), 10)
    return order_place(cart=ready_cart([(variant, 1)], payment="stripe"))


@pytest.fixture
def manual_order():
    variant = VariantFactory(price=Decimal("12.00"))
    stock(variant, WarehouseFactory(), 10)
    return order_place(cart=ready_cart([(variant, 1)], payment="bank_transfer"))


def test_a_card_order_gets_the_payment_element_with_its_client_secret(client, stripe_fake):
    order = _card_order(stripe_fake)
    token = _token(order)
    response = client.get(reverse("orders:pay", args=[token]))

    assert response.status_code == 200
    payment = order.payments.get()
    assert payment.client_secret  # the PaymentIntent was created for this page
    (intent,) = stripe_fake.payment_intents.values()
    assert payment.reference == intent["id"]
    html = response.content.decode()
    assert '<div id="payment-element">' in html
    assert f'data-client-secret="{payment.client_secret}"' in html
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in html
    status_url = reverse("orders:order-status", args=[token])
    assert f'data-return-url="http://testserver{status_url}"' in html
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert "/static/js/stripe-payment.js" in html
    # No inline script: the policy forbids it.
    assert "<script>" not in html


def test_reloading_the_page_reuses_the_payment_intent(client, stripe_fake):
    order = _card_order(stripe_fake)
    first = client.get(_url(order))
    second = client.get(_url(order))

    assert len(stripe_fake.creations("/v1/payment_intents")) == 1
    secret = order.payments.get().client_secret
    assert secret in first.content.decode()
    assert secret in second.content.decode()


def test_the_page_allows_exactly_what_stripe_needs(client, stripe_fake):
    response = client.get(_url(_card_order(stripe_fake)))

    policy = dict(
        (part.split()[0], part.split()[1:])
        for part in response.headers["Content-Security-Policy"].split("; ")
    )
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_other_pages_do_not_allow_stripe(client, stripe_fake):
    policy = client.get(reverse("orders:cart")).headers["Content-Security-Policy"]
    assert "stripe.com" not in policy


def test_a_manual_order_shows_the_instructions_and_no_stripe(client, manual_order, settings):
    response = client.get(_url(manual_order))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Bank transfer" in html
    assert settings.BANK_TRANSFER_DETAILS in html
    assert "js.stripe.com/v3" not in html
    assert 'id="payment-element"' not in html


def test_the_page_reads_a_bounded_number_of_queries(
    client, stripe_fake, manual_order, django_assert_max_num_queries, warm_menu
):
    # The order with its lines, payments, refunds and disputes; the menu is cached.
    with django_assert_max_num_queries(5):
        assert client.get(_url(manual_order)).status_code == 200
    card = _card_order(stripe_fake)
    warm_menu()
    with django_assert_max_num_queries(6):  # + saving the new PaymentIntent's id
        assert client.get(_url(card)).status_code == 200


def test_a_failed_payment_shows_why_and_offers_a_retry(client, stripe_fake):
    order = _card_order(stripe_fake)
    client.get(_url(order))
    payment = order.payments.get()
    payment_status_set(
        payment=payment, status=Payment.Status.FAILED, failure_message="Your card was declined."
    )

    html = client.get(_url(order)).content.decode()

    assert "Your card was declined." in html
    assert 'id="payment-element"' not in html
    assert 'value="stripe" checked' in html
    assert 'value="bank_transfer"' in html
    assert "Try again" in html


def test_retrying_with_the_card_makes_a_new_attempt_and_intent(client, stripe_fake):
    order = _card_order(stripe_fake)
    client.get(_url(order))
    first = order.payments.get()
    payment_status_set(payment=first, status=Payment.Status.FAILED, failure_message="Declined.")

    url = _url(order)
    response = client.post(url, {"method": "stripe"})
    assert response.status_code == 302
    assert response.url == url
    page = client.get(response.url)

    second = order.payments.exclude(pk=first.pk).get()
    assert second.provider == "stripe"
    assert second.idempotency_key == f"order-{order.number}-payment-2"
    assert second.reference
    assert second.reference != first.reference
    assert len(stripe_fake.payment_intents) == 2
    assert second.client_secret in page.content.decode()


def test_switching_to_a_manual_method_after_a_failure(client, stripe_fake, settings):
    order = _card_order(stripe_fake)
    client.get(_url(order))
    payment_status_set(payment=order.payments.get(), status=Payment.Status.FAILED)

    client.post(_url(order), {"method": "bank_transfer"})

    order.refresh_from_db()
    assert order.payment_method == "bank_transfer"
    latest = order.payments.order_by("-pk").first()
    assert (latest.provider, latest.status) == ("bank_transfer", Payment.Status.PENDING)
    html = client.get(_url(order)).content.decode()
    assert settings.BANK_TRANSFER_DETAILS in html


def test_a_manual_order_can_switch_to_the_card(client, stripe_fake, manual_order):
    html = client.get(_url(manual_order)).content.decode()
    assert "Pay another way" in html
    assert 'value="stripe"' in html

    client.post(_url(manual_order), {"method": "stripe"})

    assert manual_order.payments.get(provider="bank_transfer").status == Payment.Status.CANCELLED
    assert 'id="payment-element"' in client.get(_url(manual_order)).content.decode()


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("", "Choose how to pay."),
        ("bitcoin", "Unknown payment method"),
        ("stripe", "That payment method is not available."),
    ],
)
def test_a_bad_retry_says_why_and_changes_nothing(client, manual_order, method, message):
    # No Stripe keys here: the card is not available.
    before = list(manual_order.payments.values_list("pk", "status"))
    response = client.post(_url(manual_order), {"method": method}, follow=True)

    assert message in response.content.decode()
    assert list(manual_order.payments.values_list("pk", "status")) == before


def test_a_paid_order_cannot_be_retried(client, stripe_fake):
    order = stripe_order_place()
    payment_status_set(payment=order.payments.get(), status=Payment.Status.SUCCEEDED)

    response = client.post(_url(order), {"method": "stripe"}, follow=True)
    assert "does not wait for a payment" in response.content.decode()
    assert order.payments.count() == 1
    assert "Paid, thank you" in client.get(_url(order)).content.decode()


def test_stripe_being_down_shows_a_message_and_the_manual_methods(client, stripe_fake):
    order = _card_order(stripe_fake)
    stripe_fake.next_error = (401, "invalid_request_error", None, "Invalid API Key provided.")
    stripe_fake.secret_key = "sk_other"  # every call is refused

    html = client.get(_url(order)).content.decode()
    assert "keys were refused" in html
    assert 'id="payment-element"' not in html
    assert 'value="bank_transfer"' in html


def test_a_processing_payment_polls_its_panel(client, stripe_fake):
    order = stripe_order_place()
    payment_status_set(payment=order.payments.get(), status=Payment.Status.PROCESSING)

    html = client.get(_url(order)).content.decode()
    assert "being processed" in html
    assert 'hx-trigger="every 5s"' in html

    partial = client.get(_url(order), headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.strip().startswith('<section id="payment-panel"')
    assert "<html" not in body
    assert "HX-Request" in partial.headers["Vary"]
    assert "being processed" in body


def test_the_panel_partial_shows_the_outcome_once_paid(client, stripe_fake):
    order = stripe_order_place()
    payment_status_set(payment=order.payments.get(), status=Payment.Status.SUCCEEDED)
    body = client.get(_url(order), headers={"HX-Request": "true"}).content.decode()
    assert "Paid, thank you" in body
    assert "hx-trigger" not in body


def test_another_shoppers_token_or_a_forged_one_is_404(client, manual_order):
    other = signing.dumps({"n": manual_order.number, "s": "guessed"}, salt=STATUS_LINK_SALT)
    forged = _token(manual_order)[:-2] + "xx"
    unsigned = signing.dumps({"n": manual_order.number, "s": manual_order.secret}, salt="other")
    for token in (other, forged, unsigned, "nonsense"):
        url = reverse("orders:pay", args=[token])
        assert client.get(url).status_code == 404
        assert client.post(url, {"method": "bank_transfer"}).status_code == 404
    assert manual_order.payments.count() == 1


def test_an_order_held_by_the_fraud_check_can_still_be_paid(client, manual_order, settings):
    order_hold(order=manual_order, reason="Fraud check: risk score 70.")

    html = client.get(_url(manual_order)).content.decode()
    assert settings.BANK_TRANSFER_DETAILS in html
    assert "Pay another way" not in html  # a new attempt waits until staff approve it


def test_a_failed_payment_on_a_held_order_offers_no_retry(client, stripe_fake):
    order = stripe_order_place()
    payment_status_set(payment=order.payments.get(), status=Payment.Status.FAILED)
    order_hold(order=order, reason="Fraud check: risk score 70.")

    html = client.get(_url(order)).content.decode()
    assert "We are reviewing your order" in html
    assert 'name="method"' not in html


def test_a_cancelled_order_has_nothing_to_pay(client, manual_order):
    order_cancel(order=manual_order)
    html = client.get(_url(manual_order)).content.decode()
    assert "Nothing to pay" in html
    assert 'name="method"' not in html


def test_switching_away_from_the_card_cancels_its_payment_intent(client, stripe_fake):
    order = _card_order(stripe_fake)
    client.get(_url(order))  # the card form was shown: its PaymentIntent exists
    card = order.payments.get()

    client.post(_url(order), {"method": "cash_on_delivery"})

    card.refresh_from_db()
    assert card.status == Payment.Status.CANCELLED
    assert stripe_fake.payment_intents[card.reference]["status"] == "canceled"
    (call,) = [c for c in stripe_fake.calls if c.path.endswith("/cancel")]
    assert call.idempotency_key == f"{card.idempotency_key}-cancel"


def test_retrying_the_card_cancels_the_failed_attempts_intent(client, stripe_fake):
    order = _card_order(stripe_fake)
    client.get(_url(order))
    first = order.payments.get()
    payment_status_set(payment=first, status=Payment.Status.FAILED)

    client.post(_url(order), {"method": "stripe"})
    client.get(_url(order))

    second = order.payments.exclude(pk=first.pk).get()
    assert stripe_fake.payment_intents[first.reference]["status"] == "canceled"
    assert stripe_fake.payment_intents[second.reference]["status"] == "requires_payment_method"
