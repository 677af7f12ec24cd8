from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from inventory.models import Reservation
from orders.cart_session import CART_SESSION_KEY
from orders.models import Cart, CartLine, VoucherRedemption
from orders.services import cart_add, cart_create, order_place
from tests.factories import CategoryFactory, ProductFactory, ShopperFactory, VariantFactory
from tests.factories.inventory import stock
from tests.factories.orders import VoucherFactory, ready_cart
from tests.orders.storefront_shop import make_shop

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(db):
    return make_shop()


def _cart(client) -> Cart:
    return Cart.objects.get(token=client.session[CART_SESSION_KEY])


def _add(client, variant, quantity=1, **headers):
    return client.post(
        reverse("orders:cart-add"), {"variant": variant.pk, "quantity": quantity}, headers=headers
    )


# --- Adding ----------------------------------------------------------------------------------


def test_add_without_js_redirects_to_the_cart_and_holds_stock(client, shop):
    response = _add(client, shop.mug, 2)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:cart")
    cart = _cart(client)
    assert cart.user is None
    assert list(cart.lines.values_list("variant_id", "quantity")) == [(shop.mug.pk, 2)]
    hold = Reservation.objects.get(cart_key=cart.token)
    assert hold.quantity == 2
    # Held for the configured time (CART_RESERVATION_MINUTES, 15 by default).
    assert timedelta(minutes=14) < hold.expires_at - timezone.now() <= timedelta(minutes=15)
    page = client.get(reverse("orders:cart"))
    assert "Added 2 of Stoneware Mug to your cart." in page.content.decode()


def test_add_with_htmx_answers_a_status_line_and_tells_the_header(client, shop):
    response = _add(client, shop.mug, 1, **HTMX)
    assert response.status_code == 200
    assert "Added Stoneware Mug to your cart." in response.content.decode()
    assert response["HX-Trigger"] == '{"cart-updated": {}}'
    count = client.get(reverse("orders:cart-count"))
    assert '>1<span class="visually-hidden"> item</span>' in count.content.decode()


def test_adding_more_than_in_stock_says_how_many_are_left(client, shop):
    response = _add(client, shop.lamp, 3, **HTMX)
    assert "Only 2 of Desk Lamp left; you asked for 3." in response.content.decode()
    assert "HX-Trigger" not in response
    assert not CartLine.objects.exists()


def test_adding_a_sold_out_variant_says_so_and_goes_back_without_js(client, shop):
    other = ready_cart([(shop.lamp, 2)], email="b@example.net")
    assert other.lines.count() == 1
    response = _add(client, shop.lamp, 1, Referer="http://testserver/products/lamp/?opt-x=1")
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/products/lamp/?opt-x=1"
    page = client.get("/products/lamp/")
    assert "Desk Lamp is sold out." in page.content.decode()


def test_add_rejects_a_made_up_variant_and_a_bad_quantity(client, shop):
    _add(client, shop.mug, 1, **HTMX)
    response = client.post(
        reverse("orders:cart-add"), {"variant": 999999, "quantity": 1}, headers=HTMX
    )
    assert "This product is not available." in response.content.decode()
    response = client.post(
        reverse("orders:cart-add"), {"variant": shop.mug.pk, "quantity": 0}, headers=HTMX
    )
    assert "Could not add this" in response.content.decode()
    assert CartLine.objects.get().quantity == 1  # only the first, valid add


def test_add_is_post_only(client, shop):
    assert client.get(reverse("orders:cart-add")).status_code == 405


def test_product_page_has_the_add_to_cart_form_with_its_token(client, shop):
    page = client.get("/products/mug/").content.decode()
    assert f'action="{reverse("orders:cart-add")}"' in page
    assert 'id="add-to-cart"' in page
    assert "csrfmiddlewaretoken" in page
    assert f'name="variant" value="{shop.mug.pk}" form="add-to-cart"' in page


# --- The cart page ---------------------------------------------------------------------------


def test_cart_page_lists_lines_with_totals_and_a_shipping_estimate(client, shop):
    _add(client, shop.mug, 2)
    _add(client, shop.lamp, 1)
    page = client.get(reverse("orders:cart")).content.decode()
    assert "Stoneware Mug" in page
    assert "Desk Lamp" in page
    assert "€64.00" in page  # subtotal 2 x 12 + 40
    assert "estimate to Germany" in page
    assert "€4.90" in page
    assert "€68.90" in page  # total with the cheapest shipping
    assert "Includes tax" in page


def test_empty_cart_page(client, db):
    response = client.get(reverse("orders:cart"))
    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()


def test_cart_page_htmx_answers_the_region_only(client, shop):
    _add(client, shop.mug)
    response = client.get(reverse("orders:cart"), headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="cart"')
    assert "<html" not in body


def test_change_quantity_with_htmx_and_without(client, shop):
    _add(client, shop.mug, 1)
    url = reverse("orders:cart-line", args=[shop.mug.pk])
    response = client.post(url, {"quantity": 1, "step": 1}, headers=HTMX)
    assert response["HX-Trigger"] == '{"cart-updated": {}}'
    assert 'value="2"' in response.content.decode()
    assert Reservation.objects.get().quantity == 2
    response = client.post(url, {"quantity": 4})
    assert response.status_code == 302
    assert CartLine.objects.get().quantity == 4
    client.post(url, {"quantity": 4, "step": -1})
    assert CartLine.objects.get().quantity == 3


def test_change_beyond_stock_keeps_the_line_and_explains(client, shop):
    _add(client, shop.lamp, 1)
    url = reverse("orders:cart-line", args=[shop.lamp.pk])
    response = client.post(url, {"quantity": 5}, headers=HTMX)
    assert "Only 2 of Desk Lamp left; you asked for 5." in response.content.decode()
    assert CartLine.objects.get().quantity == 1


def test_bad_quantity_changes_nothing(client, shop):
    _add(client, shop.mug, 2)
    url = reverse("orders:cart-line", args=[shop.mug.pk])
    response = client.post(url, {"quantity": "lots"}, headers=HTMX)
    assert "Choose a quantity from 0 to 99." in response.content.decode()
    assert CartLine.objects.get().quantity == 2


def test_stepping_to_zero_and_remove_drop_the_line_and_its_hold(client, shop):
    _add(client, shop.mug, 1)
    _add(client, shop.lamp, 1)
    client.post(reverse("orders:cart-line", args=[shop.mug.pk]), {"quantity": 1, "step": -1})
    response = client.post(reverse("orders:cart-remove", args=[shop.lamp.pk]), headers=HTMX)
    assert "Your cart is empty" in response.content.decode()
    assert not CartLine.objects.exists()
    assert not Reservation.objects.exists()


def test_nobody_changes_another_cart(client, shop):
    theirs = cart_create()
    cart_add(cart=theirs, variant_id=shop.mug.pk, quantity=1)
    response = client.post(
        reverse("orders:cart-line", args=[shop.mug.pk]), {"quantity": 5}, headers=HTMX
    )
    assert "no longer in your cart" in response.content.decode()
    client.post(reverse("orders:cart-remove", args=[shop.mug.pk]))
    assert CartLine.objects.get(cart=theirs).quantity == 1


def test_price_change_and_gone_product_are_explained_not_dropped(client, shop):
    _add(client, shop.mug, 1)
    _add(client, shop.lamp, 1)
    shop.mug.price = Decimal("14.00")
    shop.mug.save(update_fields=["price"])
    Product.objects.filter(pk=shop.lamp.product_id).update(status=Product.Status.ARCHIVED)
    page = client.get(reverse("orders:cart")).content.decode()
    assert "The price of Stoneware Mug changed from 12.00 to 14.00." in page
    assert "Desk Lamp is no longer sold; remove it to continue." in page
    assert page.count('data-testid="cart-line"') == 2
    response = client.post(reverse("orders:cart-acknowledge"), headers=HTMX)
    body = response.content.decode()
    assert "changed from" not in body
    assert "Desk Lamp is no longer sold" in body
    assert CartLine.objects.get(variant=shop.mug).price_seen == Decimal("14.00")


# --- Vouchers --------------------------------------------------------------------------------


def _apply(client, code, **headers):
    return client.post(reverse("orders:cart-voucher"), {"code": code}, headers=headers)


def test_voucher_applies_and_can_be_removed(client, shop):
    VoucherFactory(code="TEN", value=Decimal("10"))
    _add(client, shop.lamp, 1)
    response = _apply(client, "ten", **HTMX)
    body = response.content.decode()
    assert "Code TEN applied." in body
    assert "\u2212€4.00" in body  # a minus sign
    assert _cart(client).voucher.code == "TEN"
    client.post(reverse("orders:cart-voucher-remove"), headers=HTMX)
    assert _cart(client).voucher is None


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_unknown_voucher_says_so(client, shop, headers):
    _add(client, shop.mug)
    response = _apply(client, "NOPE", **headers)
    assert response.status_code == 200
    assert "We don&#x27;t know the code &#x27;NOPE&#x27;." in response.content.decode()
    assert _cart(client).voucher is None


def test_expired_voucher_is_refused_with_the_reason(client, shop):
    VoucherFactory(code="OLD", ends_at=timezone.now() - timedelta(days=1))
    _add(client, shop.mug)
    assert "The code OLD has expired." in _apply(client, "OLD", **HTMX).content.decode()
    assert _cart(client).voucher is None


def test_minimum_subtotal_voucher_says_how_much_more(client, shop):
    VoucherFactory(code="BIG", min_subtotal=Decimal("50.00"))
    _add(client, shop.mug)
    body = _apply(client, "BIG", **HTMX).content.decode()
    assert "needs a subtotal of at least 50.00 EUR; add 38.00 more." in body


def test_per_customer_limit_is_explained(client, shop):
    voucher = VoucherFactory(code="ONCE", per_customer_limit=1)
    earlier = ready_cart([(shop.mug, 1)], email="ada@example.net", method=shop.standard)
    earlier.voucher = voucher
    earlier.save(update_fields=["voucher"])
    order_place(cart=earlier)
    assert VoucherRedemption.objects.count() == 1
    _add(client, shop.mug)
    cart = _cart(client)
    cart.email = "ada@example.net"
    cart.save(update_fields=["email"])
    body = _apply(client, "ONCE", **HTMX).content.decode()
    assert "You have already used the code ONCE." in body


def test_voucher_for_other_products_does_not_apply(client, shop):
    voucher = VoucherFactory(code="GARDEN")
    voucher.categories.add(CategoryFactory(name="Garden"))
    _add(client, shop.mug)
    body = _apply(client, "GARDEN", **HTMX).content.decode()
    assert "The code GARDEN does not apply to anything in your cart." in body


def test_voucher_that_stops_applying_stays_with_its_reason(client, shop):
    VoucherFactory(code="BIG", min_subtotal=Decimal("30.00"))
    _add(client, shop.lamp, 1)
    _apply(client, "BIG")
    client.post(reverse("orders:cart-line", args=[shop.lamp.pk]), {"quantity": 0})
    _add(client, shop.mug, 1)
    body = client.get(reverse("orders:cart")).content.decode()
    assert "BIG" in body
    assert "add 18.00 more" in body


# --- Signed in -------------------------------------------------------------------------------


def test_guest_cart_merges_into_the_shoppers_cart_after_sign_in(client, shop):
    shopper = ShopperFactory()
    own = cart_create(user=shopper)
    cart_add(cart=own, variant_id=shop.mug.pk, quantity=1)
    _add(client, shop.mug, 2)
    _add(client, shop.lamp, 1)
    guest = _cart(client)
    client.force_login(shopper)  # keeps the session's data, as a real sign-in does
    page = client.get(reverse("orders:cart")).content.decode()
    assert "Desk Lamp" in page
    lines = dict(own.lines.values_list("variant_id", "quantity"))
    assert lines == {shop.mug.pk: 3, shop.lamp.pk: 1}
    guest.refresh_from_db()
    assert guest.status == Cart.Status.MERGED
    assert CART_SESSION_KEY not in client.session
    assert set(Reservation.objects.values_list("cart_key", flat=True)) == {own.token}


def test_guest_cart_becomes_the_shoppers_when_they_have_none(client, shop):
    shopper = ShopperFactory()
    _add(client, shop.mug, 1)
    guest = _cart(client)
    client.force_login(shopper)
    client.get(reverse("orders:cart"))
    guest.refresh_from_db()
    assert guest.user == shopper
    assert guest.status == Cart.Status.OPEN


def test_header_count_shows_units_for_guests_and_shoppers(client, shop):
    _add(client, shop.mug, 2)
    page = client.get(reverse("orders:cart")).content.decode()
    assert 'data-testid="cart-count"' in page
    shopper = ShopperFactory()
    client.force_login(shopper)
    home = client.get("/").content.decode()
    assert '2<span class="visually-hidden"> items</span>' in home


def test_cart_page_query_count_does_not_grow_with_lines(
    client, shop, django_assert_max_num_queries, django_assert_num_queries
):
    VoucherFactory(code="TEN")
    _add(client, shop.mug, 1)
    _apply(client, "TEN")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_line:
        client.get(reverse("orders:cart"))
    for _ in range(5):
        variant = VariantFactory(product=ProductFactory(), price=Decimal("5.00"))
        stock(variant, shop.warehouse, 3)
        _add(client, variant, 1)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("orders:cart"))
    assert response.content.decode().count('data-testid="cart-line"') == 6
    with django_assert_num_queries(len(one_line)):
        client.get(reverse("orders:cart"))


def test_header_count_costs_no_query_for_a_visitor_without_a_cart(client, db, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    from orders.cart_session import cart_count_for_request

    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert cart_count_for_request(request) == 0
    assert len(queries) == 0
