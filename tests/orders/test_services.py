"""Order state, payments moving forward only, cancelling, holds, emails sent once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from inventory.models import StockLevel
from orders.emails import order_email_send
from orders.models import Cart, Order, OrderEmail, OrderEvent, Payment, Voucher
from orders.services import (
    CartError,
    IllegalTransition,
    OrderError,
    cart_add,
    cart_create,
    cart_merge,
    cart_problems,
    cart_set_quantity,
    order_cancel,
    order_hold,
    order_mark_paid,
    order_place,
    order_release,
    order_transition,
    payment_retry,
    payment_status_set,
)
from tests.factories import ProductFactory, StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import VoucherFactory, ready_cart

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture
def variant():
    variant = VariantFactory(price=Decimal("15.00"))
    stock(variant, WarehouseFactory(), 4)
    return variant


@pytest.fixture
def order(variant):
    return order_place(cart=ready_cart([(variant, 2)]))


# --- Carts -----------------------------------------------------------------------------------


def test_adding_more_than_is_available_says_how_many_are_left(variant):
    cart = cart_create()
    with pytest.raises(CartError, match="Only 4 of"):
        cart_add(cart=cart, variant_id=variant.pk, quantity=5)
    assert not cart.lines.exists()


def test_a_cart_hold_keeps_stock_from_other_carts(variant):
    first, second = cart_create(), cart_create()
    cart_add(cart=first, variant_id=variant.pk, quantity=4)
    with pytest.raises(CartError, match="sold out"):
        cart_add(cart=second, variant_id=variant.pk)
    cart_set_quantity(cart=first, variant_id=variant.pk, quantity=0)
    cart_add(cart=second, variant_id=variant.pk)


def test_draft_products_and_unknown_ids_cannot_be_added():
    draft = VariantFactory(product=ProductFactory(status="draft"))
    cart = cart_create()
    for bad in (draft.pk, 999999, "abc"):
        with pytest.raises(CartError, match="not available"):
            cart_add(cart=cart, variant_id=bad)


def test_price_change_is_pointed_out_not_hidden(variant):
    cart = cart_create()
    cart_add(cart=cart, variant_id=variant.pk)
    variant.price = Decimal("17.00")
    variant.save()
    assert cart_problems(cart=cart) == [f"The price of {variant} changed from 15.00 to 17.00."]


def test_merging_a_guest_cart_adds_quantities_and_closes_it(variant):
    guest, mine = cart_create(), cart_create()
    cart_add(cart=guest, variant_id=variant.pk, quantity=1)
    cart_add(cart=mine, variant_id=variant.pk, quantity=2)
    cart_merge(source=guest, target=mine)
    assert mine.lines.get().quantity == 3
    guest.refresh_from_db()
    assert guest.status == Cart.Status.MERGED


# --- Transitions -----------------------------------------------------------------------------


def test_illegal_transition_is_refused_and_writes_no_event(order):
    events = order.events.count()
    with pytest.raises(IllegalTransition, match="pending payment cannot become fulfilled"):
        order_transition(order=order, to=S.FULFILLED)
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT
    assert order.events.count() == events


def test_every_transition_writes_who_and_from_to(order):
    staff = StaffFactory()
    order_transition(order=order, to=S.PAID, actor=staff)
    event = order.events.filter(kind=OrderEvent.Kind.STATUS).get()
    assert (event.from_status, event.to_status, event.actor) == (S.PENDING_PAYMENT, S.PAID, staff)


# --- Payments --------------------------------------------------------------------------------


def test_marking_a_manual_payment_paid_moves_the_order(order):
    order_mark_paid(order=order, actor=StaffFactory())
    order.refresh_from_db()
    assert order.status == S.PAID
    assert order.payment_status == Order.PaymentStatus.PAID
    assert order.paid_total == order.total
    with pytest.raises(OrderError, match="no manual payment waiting"):
        order_mark_paid(order=order, actor=None)


def test_payments_only_move_forward(order):
    payment = order.payments.get()
    payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED)
    payment_status_set(payment=payment, status=Payment.Status.PROCESSING)
    payment_status_set(payment=payment, status=Payment.Status.FAILED)
    payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED)  # again: no effect
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.paid_total == order.total  # counted once
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT).count() == 1


def test_a_failed_payment_is_visible_and_can_be_retried(order):
    payment = order.payments.get()
    payment_status_set(payment=payment, status=Payment.Status.FAILED, failure_message="Declined")
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.FAILED
    retry = payment_retry(order=order, provider_code="cash_on_delivery")
    assert retry.pk != payment.pk
    assert retry.idempotency_key == f"order-{order.number}-payment-2"
    assert payment_retry(order=order, provider_code="cash_on_delivery").pk == retry.pk


def test_payment_during_a_hold_keeps_the_hold_and_returns_to_paid_on_release(order):
    order_hold(order=order, reason="Check the address")
    payment_status_set(payment=order.payments.get(), status=Payment.Status.SUCCEEDED)
    order.refresh_from_db()
    assert order.status == S.ON_HOLD
    order_release(order=order, actor=StaffFactory())
    order.refresh_from_db()
    assert order.status == S.PAID
    assert order.hold_reason == ""


# --- Cancelling ------------------------------------------------------------------------------


def test_cancel_releases_allocated_stock_and_the_voucher_use(variant):
    voucher = VoucherFactory(usage_limit=5)
    cart = ready_cart([(variant, 2)])
    cart.voucher = voucher
    cart.save()
    order = order_place(cart=cart)
    assert Voucher.objects.get(pk=voucher.pk).times_used == 1
    level = StockLevel.objects.get(variant=variant)
    assert level.allocated == 2

    order_cancel(order=order, actor=StaffFactory(), reason="Customer asked")

    level.refresh_from_db()
    assert level.allocated == 0
    assert Voucher.objects.get(pk=voucher.pk).times_used == 0
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.customer.orders_count == 0
    with pytest.raises(IllegalTransition):
        order_cancel(order=order)


# --- Emails ----------------------------------------------------------------------------------


def test_the_confirmation_goes_out_after_commit_once(variant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(cart=ready_cart([(variant, 1)]))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Order {order.number} confirmed"
    assert "/order/" in message.body
    # A redelivered task finds the claim and sends nothing.
    assert order_email_send(order_id=order.pk, key="confirmation") is False
    assert len(mail.outbox) == 1
    assert OrderEmail.objects.get(order=order).sent_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_a_placement_that_rolls_back_sends_nothing(variant, django_capture_on_commit_callbacks):
    from django.db import transaction

    cart = ready_cart([(variant, 1)])

    def place_then_fail() -> None:
        with transaction.atomic():
            order_place(cart=cart)
            raise RuntimeError("boom")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        place_then_fail()
    assert callbacks == []
    assert not mail.outbox
    assert not Order.objects.exists()


# --- Fulfillment -----------------------------------------------------------------------------


def test_shipping_part_then_the_rest_moves_the_order_along(order):
    from orders.services import order_fulfillment_record

    order_mark_paid(order=order, actor=None)
    line = order.lines.get()
    order_fulfillment_record(order=order, quantities={line.pk: 1})
    order.refresh_from_db()
    assert (order.status, order.fulfillment_status) == (S.PARTIALLY_FULFILLED, "partial")
    with pytest.raises(OrderError, match="1 left to ship, not 2"):
        order_fulfillment_record(order=order, quantities={line.pk: 2})
    order_fulfillment_record(order=order, quantities={line.pk: 1})
    order.refresh_from_db()
    assert (order.status, order.fulfillment_status) == (S.FULFILLED, "fulfilled")


def test_orders_on_hold_or_unpaid_do_not_ship(order):
    from orders.services import order_fulfillment_record

    line = order.lines.get()
    with pytest.raises(OrderError, match="only paid orders ship"):
        order_fulfillment_record(order=order, quantities={line.pk: 1})
    order_mark_paid(order=order, actor=None)
    order_hold(order=order, reason="Dispute opened")
    with pytest.raises(OrderError, match="on hold: Dispute opened"):
        order_fulfillment_record(order=order, quantities={line.pk: 1})
    line.refresh_from_db()
    assert line.quantity_fulfilled == 0


def test_the_confirmation_lists_lines_at_the_prices_that_add_up_to_the_subtotal(
    variant, django_capture_on_commit_callbacks
):
    voucher = VoucherFactory(value=Decimal("10"))
    cart = ready_cart([(variant, 2)])
    cart.voucher = voucher
    cart.save()
    with django_capture_on_commit_callbacks(execute=True):
        order_place(cart=cart)
    body = mail.outbox[0].body
    # 2 x 15.00: the line shows 30.00, the subtotal 30.00, then the discount of 3.00.
    assert "€30.00" in body.split("Subtotal")[0]
    assert "€27.00" not in body.split("Subtotal")[0]


def test_a_code_needs_something_in_the_cart_to_be_checked_against():
    from orders.pricing import VoucherError
    from orders.services import cart_voucher_apply

    expired = VoucherFactory(ends_at=timezone.now() - timedelta(days=1))
    cart = cart_create()
    with pytest.raises(VoucherError, match="Add something to your cart first"):
        cart_voucher_apply(cart=cart, code=expired.code)
    cart.refresh_from_db()
    assert cart.voucher is None
