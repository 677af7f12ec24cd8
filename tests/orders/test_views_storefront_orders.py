from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from orders.emails import STATUS_LINK_SALT, order_status_token, order_status_url
from orders.models import Order, OrderEvent, Payment
from orders.services import (
    event_add,
    order_cancel,
    order_mark_paid,
    order_place,
    payment_status_set,
)
from tests.factories import ShopperFactory, StaffFactory
from tests.factories.orders import ready_cart
from tests.orders.storefront_shop import make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return make_shop()


def _order(shop, *, user=None, email="ada@example.net", payment="bank_transfer") -> Order:
    cart = ready_cart(
        [(shop.mug, 1)], email=email, method=shop.standard, user=user, payment=payment
    )
    return order_place(cart=cart, user=user)


def _status_url(order: Order) -> str:
    return reverse("orders:order-status", args=[order_status_token(order)])


# --- Status link -----------------------------------------------------------------------------


def test_status_link_shows_the_order_to_anyone_holding_it(client, shop):
    order = _order(shop)
    response = client.get(_status_url(order))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Order {order.number}" in page
    assert "Stoneware Mug" in page
    assert "Pending payment" in page
    assert "IBAN" in page  # bank transfer still due
    assert "Ada Lovelace" in page
    assert "Thank you!" not in page  # not placed in this session


def test_the_emailed_link_is_the_same_page(client, shop):
    order = _order(shop)
    assert order_status_url(order).endswith(_status_url(order))


def test_tampered_or_forged_tokens_are_404(client, shop):
    order = _order(shop)
    token = order_status_token(order)
    assert client.get(reverse("orders:order-status", args=[token[:-2] + "xy"])).status_code == 404
    forged = signing.dumps({"n": order.number, "s": "guessed"}, salt=STATUS_LINK_SALT)
    assert client.get(reverse("orders:order-status", args=[forged])).status_code == 404
    other_salt = signing.dumps({"n": order.number, "s": order.secret}, salt="other")
    assert client.get(reverse("orders:order-status", args=[other_salt])).status_code == 404
    assert client.get(reverse("orders:order-status", args=[order.number])).status_code == 404


def test_timeline_shows_shopper_events_but_not_staff_notes(client, shop):
    order = _order(shop)
    staff = StaffFactory()
    event_add(order=order, kind=OrderEvent.Kind.NOTE, message="Customer sounded fishy", actor=staff)
    order_mark_paid(order=order, actor=staff)
    page = client.get(_status_url(order)).content.decode()
    assert "Order placed" in page
    assert "Payment received" in page
    assert "fishy" not in page
    assert "IBAN" not in page  # paid: nothing to transfer


def test_cancelled_order_shows_it(client, shop):
    order = _order(shop)
    order_cancel(order=order, reason="customer asked")
    page = client.get(_status_url(order)).content.decode()
    assert "Cancelled" in page
    assert "customer asked" not in page


def test_failed_card_payment_shows_the_reason_and_a_retry_link(client, shop):
    order = _order(shop)
    payment = order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(provider="stripe")
    Order.objects.filter(pk=order.pk).update(payment_method="stripe")
    payment_status_set(
        payment=Payment.objects.get(pk=payment.pk),
        status=Payment.Status.FAILED,
        failure_message="Your card was declined.",
    )
    url = _status_url(order)
    page = client.get(url).content.decode()
    assert "Your payment did not go through." in page
    assert "Your card was declined." in page
    assert f'href="{url}pay/"' in page
    assert "Payment failed" in page  # on the timeline


# --- Account ---------------------------------------------------------------------------------


def test_account_orders_need_sign_in(client, db):
    response = client.get(reverse("orders:account-orders"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("customers:account-login"))
    response = client.get(reverse("orders:account-order", args=["1001"]))
    assert response.status_code == 302


def test_account_lists_only_my_orders_newest_first(client, shop):
    me = ShopperFactory(email="me@example.net", email_confirmed_at=timezone.now())
    first = _order(shop, user=me, email="me@example.net")
    second = _order(shop, user=me, email="me@example.net")
    theirs = _order(shop, email="them@example.net")
    client.force_login(me)
    page = client.get(reverse("orders:account-orders")).content.decode()
    assert page.index(f"Order {second.number}") < page.index(f"Order {first.number}")
    assert f"Order {theirs.number}" not in page


def test_account_list_htmx_partial_and_paging(
    client, shop, django_assert_max_num_queries, warm_menu
):
    me = ShopperFactory(email="me@example.net", email_confirmed_at=timezone.now())
    customer = Customer.objects.create(email="me@example.net", user=me)
    for index in range(12):
        Order.objects.create(
            number=str(5000 + index), customer=customer, email=me.email, total=Decimal("1.00")
        )
    client.force_login(me)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("orders:account-orders"))
    page = response.content.decode()
    assert page.count('class="order-row card"') == 10
    assert "Page 1 of 2" in page
    response = client.get(
        reverse("orders:account-orders") + "?page=2", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="order-list">')
    assert body.count('class="order-row card"') == 2


def test_account_order_detail_and_ownership(client, shop):
    me = ShopperFactory(email="me@example.net", email_confirmed_at=timezone.now())
    mine = _order(shop, user=me, email="me@example.net")
    other_user = ShopperFactory(email="other@example.net", email_confirmed_at=timezone.now())
    theirs = _order(shop, user=other_user, email="other@example.net")
    guest = _order(shop, email="guest@example.net")
    client.force_login(me)
    response = client.get(reverse("orders:account-order", args=[mine.number]))
    assert response.status_code == 200
    assert f"Order {mine.number}" in response.content.decode()
    # Another user's order, a guest's order and a guessed number: all 404.
    assert client.get(reverse("orders:account-order", args=[theirs.number])).status_code == 404
    assert client.get(reverse("orders:account-order", args=[guest.number])).status_code == 404
    assert client.get(reverse("orders:account-order", args=["999999"])).status_code == 404
    # And the other user does not see mine.
    other = Client()
    other.force_login(other_user)
    assert other.get(reverse("orders:account-order", args=[mine.number])).status_code == 404


def test_confirmation_email_link_opens_the_order_page(shop, django_capture_on_commit_callbacks):
    import re

    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        order = _order(shop, email="grace@example.net")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.net"]
    text_link = re.search(r"https?://\S+/order/\S+/", message.body).group(0)
    html = message.alternatives[0].content
    assert f'href="{text_link}"' in html
    assert "Total: €16.90" in message.body  # 12 + 4.90, in the store's money format
    assert "Please transfer €16.90 with the reference" in message.body
    assert "10115 Berlin DE" in message.body
    path = "/" + text_link.split("/", 3)[3]
    response = Client().get(path)  # a fresh browser: no session, no account
    assert response.status_code == 200
    assert f"Order {order.number}" in response.content.decode()
