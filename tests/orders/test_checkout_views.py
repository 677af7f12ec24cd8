from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from customers.models import Address, Customer
from inventory.models import Reservation
from inventory.services import stock_allocate
from orders.cart_session import CART_SESSION_KEY, ORDERS_SESSION_KEY
from orders.models import Cart, Order
from orders.selectors import order_get_for_status_token_or_404
from tests.factories import ShopperFactory
from tests.orders.storefront_shop import make_shop

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
CHECKOUT = "/checkout/"
ADDRESS = {
    "ship-full_name": "Grace Hopper",
    "ship-line1": "Hafenstraße 3",
    "ship-postal_code": "20095",
    "ship-city": "Hamburg",
    "ship-country": "DE",
    "billing_same": "on",
}


@pytest.fixture
def shop(db):
    return make_shop()


@pytest.fixture
def filled(client, shop):
    """A guest with a mug and a lamp in the cart who went through every step."""
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 2})
    client.post(reverse("orders:cart-add"), {"variant": shop.lamp.pk, "quantity": 1})
    client.get(CHECKOUT)
    _step(client, "contact", email="grace@example.net", accepts_marketing="on")
    _step(client, "address", **ADDRESS)
    _step(client, "delivery", method=shop.standard.pk)
    _step(client, "payment", method="bank_transfer")
    return _cart(client)


def _cart(client) -> Cart:
    return Cart.objects.get(token=client.session[CART_SESSION_KEY])


def _step(client, step, headers=None, **data):
    return client.post(CHECKOUT, {"step": step, **data}, headers=headers or {})


def _place(client, cart, **headers):
    return client.post(reverse("orders:checkout-place"), {"cart": cart.token}, headers=headers)


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, db):
    response = client.get(CHECKOUT)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:cart")


def test_checkout_opens_at_the_contact_step_and_renews_the_holds(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    Reservation.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    response = client.get(CHECKOUT)
    page = response.content.decode()
    assert 'name="step" value="contact"' in page
    assert "Hamburg" not in page
    hold = Reservation.objects.get()
    assert hold.expires_at - timezone.now() > timedelta(minutes=14)
    assert _cart(client).checkout_started_at is not None


def test_a_hold_that_cannot_be_renewed_is_explained(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.lamp.pk, "quantity": 2})
    # The hold lapsed and someone bought one lamp meanwhile.
    Reservation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    stock_allocate(reference="order:elsewhere", lines={shop.lamp.pk: 1})
    page = client.get(CHECKOUT).content.decode()
    assert "Only 1 of Desk Lamp left; you asked for 2." in page


def test_signed_in_shopper_gets_their_email_prefilled(client, shop):
    shopper = ShopperFactory(email="linus@example.net")
    client.force_login(shopper)
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    page = client.get(CHECKOUT).content.decode()
    assert 'value="linus@example.net"' in page


def test_steps_advance_and_summaries_show(client, shop, filled):
    page = client.get(CHECKOUT).content.decode()
    assert "grace@example.net" in page
    assert "Hafenstraße 3" in page
    assert "Standard" in page
    assert "Bank transfer" in page
    assert "Place order · €68.90" in page  # 24 + 40 + 4.90
    assert filled.shipping_address["postal_code"] == "20095"
    assert filled.billing_same_as_shipping is True
    assert filled.payment_method == "bank_transfer"


def test_step_posts_answer_the_region_for_htmx(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    response = _step(client, "contact", headers=HTMX, email="a@example.net")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="checkout"')
    assert 'name="step" value="address"' in body


def test_change_link_reopens_a_done_step(client, shop, filled):
    page = client.get(CHECKOUT + "?edit=contact").content.decode()
    assert 'name="step" value="contact"' in page
    assert 'name="step" value="payment"' not in page


def test_a_step_not_reached_cannot_be_jumped_to(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="a@example.net")
    page = client.get(CHECKOUT + "?edit=payment").content.decode()
    assert 'name="step" value="address"' in page
    assert 'name="step" value="payment"' not in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ship-postal_code", "1234", "That is not a postal code of Germany: use 5 digits"),
        ("ship-full_name", "", "Enter the name of the person receiving the parcel."),
        ("ship-line1", "", "Enter the street and house number."),
        ("ship-city", "", "Enter the town or city."),
        ("ship-country", "US", "We don&#x27;t ship to that country."),
        ("ship-phone", "call me", "Enter a phone number with digits only"),
    ],
)
def test_address_errors_are_clear_and_write_nothing(client, shop, field, value, message):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="a@example.net")
    response = _step(client, "address", **{**ADDRESS, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _cart(client).shipping_address == {}


@pytest.mark.parametrize(
    ("country", "good", "bad", "rule"),
    [
        ("NL", "1012ab", "1012", "4 digits and 2 letters"),
        ("AT", "1010", "10100", "4 digits"),
    ],
)
def test_postal_codes_by_country(client, shop, country, good, bad, rule):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="a@example.net")
    data = {**ADDRESS, "ship-country": country}
    assert rule in _step(client, "address", **{**data, "ship-postal_code": bad}).content.decode()
    _step(client, "address", **{**data, "ship-postal_code": good})
    expected = "1012 AB" if country == "NL" else good
    assert _cart(client).shipping_address["postal_code"] == expected


def test_us_zip_and_gb_postcode_rules(shop):
    from orders.forms import AddressForm

    def errors(country, postal, region=""):
        form = AddressForm(
            {
                "full_name": "A",
                "line1": "B",
                "city": "C",
                "country": country,
                "postal_code": postal,
                "region": region,
            },
            countries=["US", "GB"],
        )
        form.is_valid()
        return form.errors

    assert errors("US", "94103", "CA") == {}
    assert errors("US", "94103-1234", "CA") == {}
    assert "a ZIP code like 94103" in str(errors("US", "9410", "CA")["postal_code"])
    assert "Enter the state." in str(errors("US", "94103")["region"])
    assert errors("GB", "sw1a1aa") == {}
    assert "a postcode like SW1A 1AA" in str(errors("GB", "12345")["postal_code"])


def test_separate_billing_address_is_validated_and_kept(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="a@example.net")
    data = {k: v for k, v in ADDRESS.items() if k != "billing_same"}
    response = _step(client, "address", **data)
    assert "Enter the street and house number." in response.content.decode()
    assert _cart(client).shipping_address == {}
    billing = {
        "bill-full_name": "Grace Ltd",
        "bill-line1": "1 Main St",
        "bill-postal_code": "94103",
        "bill-city": "San Francisco",
        "bill-region": "CA",
        "bill-country": "US",
    }
    _step(client, "address", **data, **billing)
    cart = _cart(client)
    assert cart.billing_same_as_shipping is False
    assert cart.billing_address["city"] == "San Francisco"


def test_bad_email_and_unknown_method_write_nothing(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    response = _step(client, "contact", email="not-an-email")
    assert "Enter a valid email address." in response.content.decode()
    assert _cart(client).email == ""
    _step(client, "contact", email="a@example.net")
    _step(client, "address", **ADDRESS)
    response = _step(client, "delivery", method=99999)
    assert "That shipping method does not deliver to your address." in response.content.decode()
    response = _step(client, "payment", method="bitcoin")
    assert "That payment method is not available." in response.content.decode()
    cart = _cart(client)
    assert cart.shipping_method is None
    assert cart.payment_method == ""


def test_changing_country_drops_a_method_that_does_not_deliver_there(client, shop, filled):
    from tests.factories.orders import ShippingMethodFactory, ShippingZoneFactory

    ShippingMethodFactory(zone=ShippingZoneFactory(name="UK", countries=["GB"]), name="Royal")
    _step(
        client,
        "address",
        **{**ADDRESS, "ship-country": "GB", "ship-postal_code": "SW1A 1AA"},
    )
    assert _cart(client).shipping_method is None


def test_delivery_step_shows_prices_and_free_threshold(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="a@example.net")
    page = _step(client, "address", **ADDRESS)
    page = client.get(CHECKOUT).content.decode()
    assert "€4.90" in page
    assert "€9.90" in page
    assert "Free from €100.00" in page


def test_saved_address_of_a_signed_in_shopper(client, shop):
    shopper = ShopperFactory()
    customer = Customer.objects.create(email=shopper.email, user=shopper)
    mine = Address.objects.create(
        customer=customer,
        full_name="Me",
        line1="Elbchaussee 1",
        city="Hamburg",
        postal_code="22763",
        country="DE",
    )
    someone = Customer.objects.create(email="x@example.net")
    theirs = Address.objects.create(
        customer=someone, full_name="X", line1="Y", city="Z", postal_code="10115", country="DE"
    )
    client.force_login(shopper)
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email=shopper.email)
    page = client.get(CHECKOUT).content.decode()
    assert "Elbchaussee 1" in page
    assert "Y, Z" not in page
    response = _step(client, "saved", address=theirs.pk)
    assert "Choose one of your saved addresses." in response.content.decode()
    assert Cart.objects.get(user=shopper).shipping_address == {}
    _step(client, "saved", address=mine.pk)
    assert Cart.objects.get(user=shopper).shipping_address["line1"] == "Elbchaussee 1"


# --- Placing ---------------------------------------------------------------------------------


def test_place_manual_order_shows_the_confirmation_with_bank_details(
    client, shop, filled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _place(client, filled)
    order = Order.objects.get()
    assert response.status_code == 302
    # The token is signed with a timestamp: read it back rather than making another.
    token = response["Location"].split("/")[2]
    assert response["Location"] == reverse("orders:order-status", args=[token])
    assert order_get_for_status_token_or_404(token=token) == order
    assert client.session[ORDERS_SESSION_KEY] == [token]
    page = client.get(response["Location"]).content.decode()
    assert "Thank you! Your order is placed." in page
    assert f"Order {order.number}" in page
    assert "IBAN" in page
    assert order.total == Decimal("68.90")
    # The confirmation email went out after commit, with the signed link to this page.
    assert len(mail.outbox) == 1
    emailed = re.search(r"/order/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert order_get_for_status_token_or_404(token=emailed) == order
    customer = Customer.objects.get(email="grace@example.net")
    assert customer.accepts_marketing is True
    assert customer.marketing_consent_source == "checkout"
    # The cart is done: the header shows none and /checkout/ shows the order again.
    assert client.get(CHECKOUT)["Location"] == reverse("orders:order-status", args=[token])


def test_no_marketing_consent_without_the_checkbox(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="quiet@example.net")
    _step(client, "address", **ADDRESS)
    _step(client, "delivery", method=shop.standard.pk)
    _step(client, "payment", method="cash_on_delivery")
    _place(client, _cart(client))
    customer = Customer.objects.get(email="quiet@example.net")
    assert customer.accepts_marketing is False
    assert customer.marketing_consent_at is None


def test_placing_twice_makes_one_order(client, shop, filled):
    first = _place(client, filled)
    second = _place(client, filled)
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_htmx_place_redirects_the_whole_page(client, shop, filled):
    response = _place(client, filled, **HTMX)
    assert response["HX-Redirect"].startswith("/order/")


def test_short_stock_at_placing_says_what_and_makes_no_order(client, shop, filled):
    Reservation.objects.all().delete()
    stock_allocate(reference="order:elsewhere", lines={shop.lamp.pk: 2})
    response = _place(client, filled)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Desk Lamp sold out while you were checking out." in body
    assert Order.objects.count() == 0
    assert _cart(client).status == Cart.Status.OPEN


def test_incomplete_checkout_is_refused_with_what_is_missing(client, shop):
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    response = _place(client, _cart(client))
    body = response.content.decode()
    assert "Enter your email address." in body
    assert "Choose a shipping method." in body
    assert Order.objects.count() == 0


def test_nobody_places_another_shoppers_cart(client, shop, filled):
    from django.test import Client

    stranger = Client()
    response = _place(stranger, filled)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:cart")
    assert Order.objects.count() == 0


def test_stripe_order_goes_to_the_pay_page(client, shop, filled, monkeypatch):
    from orders.payments import ManualProvider

    stripe = ManualProvider("stripe", "Card")
    stripe.is_manual = False
    monkeypatch.setattr(stripe, "is_available", lambda: True)
    monkeypatch.setattr(
        "orders.payments.providers",
        lambda: {"stripe": stripe, "bank_transfer": ManualProvider("bank_transfer", "Bank")},
    )
    Cart.objects.filter(pk=filled.pk).update(payment_method="stripe")
    response = _place(client, filled)
    order = Order.objects.get()
    token = response["Location"].split("/")[2]
    assert response["Location"] == reverse("orders:pay", args=[token])
    assert order_get_for_status_token_or_404(token=token) == order


def test_change_link_with_htmx_answers_the_region(client, shop, filled):
    response = client.get(CHECKOUT + "?edit=address", headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="checkout"')
    assert 'name="step" value="address"' in body
    assert 'value="Hafenstraße 3"' in body


def test_countries_offered_are_those_with_an_active_method(client, shop):
    from tests.factories.orders import ShippingMethodFactory, ShippingZoneFactory

    ShippingMethodFactory(zone=ShippingZoneFactory(name="Far", countries=["JP"]), is_active=False)
    client.post(reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 1})
    _step(client, "contact", email="a@example.net")
    page = client.get(CHECKOUT).content.decode()
    ship_select = page[page.index('id="id_ship-country"') :].split("</select>")[0]
    assert '<option value="NL">Netherlands</option>' in ship_select
    assert "Japan" not in ship_select


def test_partly_short_stock_at_placing_says_how_many_are_left(client, shop, filled):
    Reservation.objects.all().delete()
    stock_allocate(reference="order:elsewhere", lines={shop.mug.pk: 4})  # 1 of 5 left
    body = _place(client, filled).content.decode()
    assert "Only 1 of Stoneware Mug left; you have 2 in your cart." in body
    assert Order.objects.count() == 0
