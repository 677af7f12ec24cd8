"""Regressions from the review of orders, customers and abandonment: money that must add
up (refunds by unit, shipping once, pending refunds, customer figures after cancel and
refund), states that must not reopen, lock orders that must not deadlock (PostgreSQL),
and who may see which order. Each test failed before its fix.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from customers.models import Customer
from inventory.models import StockLevel
from inventory.services import stock_ship
from orders.models import Order, Payment, Refund
from orders.payments import ManualProvider
from orders.refunds import refund_create
from orders.services import (
    CartError,
    OrderError,
    cart_add,
    cart_voucher_apply,
    order_cancel,
    order_fulfillment_record,
    order_hold,
    order_mark_paid,
    order_place,
    order_reference,
    order_release,
    payment_status_set,
)
from tests.factories import StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import VoucherFactory, ready_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory()


@pytest.fixture
def mug(warehouse):
    variant = VariantFactory(price=Decimal("10.00"), sku="MUG-1")
    stock(variant, warehouse, 10)
    return variant


@pytest.fixture
def pan(warehouse):
    variant = VariantFactory(price=Decimal("30.00"), sku="PAN-1")
    stock(variant, warehouse, 10)
    return variant


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def paid_order(mug, pan, staff):
    order = order_place(cart=ready_cart([(mug, 2), (pan, 1)]))
    order_mark_paid(order=order, actor=staff)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


@pytest.fixture
def refunds_stay_pending(monkeypatch):
    """A provider that answers "pending" (Stripe does, until its webhook)."""
    monkeypatch.setattr(ManualProvider, "refund", lambda self, *, refund: Refund.Status.PENDING)


# --- 1. Money: customer figures -------------------------------------------------------------


def test_cancel_paid_order_then_refund_leaves_total_spent_at_zero(paid_order, staff):
    order_cancel(order=paid_order, actor=staff, reason="Out of stock")
    paid_order.refresh_from_db()
    refund_create(order=paid_order, amount=paid_order.paid_total, actor=staff)

    customer = Customer.objects.get(pk=paid_order.customer_id)
    assert customer.orders_count == 0
    assert customer.total_spent == Decimal("0.00")


# --- 2. Money: pending refunds do not reserve their lines -----------------------------------


def test_a_unit_with_a_pending_refund_cannot_be_refunded_again(paid_order, refunds_stay_pending):
    mug_line = paid_order.lines.get(sku="MUG-1")  # 2 units, 20.00 of 54.90 paid
    first = refund_create(order=paid_order, lines={mug_line.pk: 2})
    assert first.status == Refund.Status.PENDING
    with pytest.raises(OrderError):
        refund_create(order=paid_order, lines={mug_line.pk: 2})


# --- 3. Money: partial line refunds must add up ----------------------------------------------


def test_refunding_a_line_unit_by_unit_adds_up_to_the_line_total(warehouse, staff):
    cup = VariantFactory(price=Decimal("5.00"), sku="CUP-1")
    stock(cup, warehouse, 10)
    cart = ready_cart([(cup, 3)])
    voucher = VoucherFactory(kind="fixed", value=Decimal("5.00"))
    cart_voucher_apply(cart=cart, code=voucher.code)
    order = order_place(cart=cart)
    line = order.lines.get()
    assert line.line_total == Decimal("10.00")
    order_mark_paid(order=order, actor=staff)
    order.refresh_from_db()

    refunded = [refund_create(order=order, lines={line.pk: 1}).amount for _ in range(3)]

    assert sum(refunded) == line.line_total


# --- 4. Money: shipping refunds are not tracked or bounded in the service --------------------


def test_shipping_is_refunded_at_most_once(paid_order):
    mug_line = paid_order.lines.get(sku="MUG-1")
    pan_line = paid_order.lines.get(sku="PAN-1")
    shipping = paid_order.shipping_total
    refund_create(order=paid_order, lines={mug_line.pk: 1}, shipping=shipping)
    with pytest.raises(OrderError):
        refund_create(order=paid_order, lines={pan_line.pk: 1}, shipping=shipping)


def test_negative_shipping_refund_is_refused(paid_order):
    pan_line = paid_order.lines.get(sku="PAN-1")
    with pytest.raises(OrderError):
        refund_create(order=paid_order, lines={pan_line.pk: 1}, shipping=Decimal("-29.99"))


# --- 5. Restock counts a unit as unshipped twice ---------------------------------------------


def test_restock_of_a_shipped_unit_after_the_unshipped_one_books_a_return(paid_order, mug, staff):
    line = paid_order.lines.get(sku="MUG-1")  # 2 units
    reference = order_reference(paid_order)
    order_fulfillment_record(order=paid_order, quantities={line.pk: 1}, actor=staff)
    stock_ship(reference=reference, quantities={mug.pk: 1})
    on_hand_after_ship = StockLevel.objects.get(variant=mug).on_hand

    refund_create(order=paid_order, lines={line.pk: 1}, restock=True)  # the unshipped unit
    refund_create(order=paid_order, lines={line.pk: 1}, restock=True)  # the shipped unit back

    assert StockLevel.objects.get(variant=mug).on_hand == on_hand_after_ship + 1


# --- 6. Payments: a late success after a cancel is lost --------------------------------------


def test_money_arriving_after_cancel_is_recorded(mug, staff):
    order = order_place(cart=ready_cart([(mug, 1)]))
    payment = order.payments.get()
    order_cancel(order=order, actor=staff, reason="No transfer after 7 days")

    payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED)

    order.refresh_from_db()
    assert order.paid_total == order.total
    assert order.events.filter(message__startswith="Money arrived").exists()


# --- 7. On hold: partial payment releases to PAID --------------------------------------------


def test_partial_payment_on_hold_does_not_release_to_paid(mug, staff):
    order = order_place(cart=ready_cart([(mug, 1)]))
    order_hold(order=order, reason="Check address", actor=staff)
    first = order.payments.get()
    Payment.objects.filter(pk=first.pk).update(amount=Decimal("1.00"))
    first.refresh_from_db()
    payment_status_set(payment=first, status=Payment.Status.SUCCEEDED, actor=staff)

    order_release(order=order, actor=staff)

    order.refresh_from_db()
    assert order.paid_total < order.total
    assert order.status == Order.Status.PENDING_PAYMENT


# --- 8. On hold: a full refund leaves the order releasable and shippable ---------------------


def test_fully_refunded_held_order_cannot_be_released_to_paid(paid_order, staff):
    order_hold(order=paid_order, reason="Fraud check", actor=staff)
    refund_create(order=paid_order, amount=paid_order.paid_total, actor=staff)
    with contextlib.suppress(OrderError):
        order_release(order=paid_order, actor=staff)
    paid_order.refresh_from_db()
    assert paid_order.status != Order.Status.PAID


# --- 9. Carts: a stale cart object changes an ordered cart -----------------------------------


def test_an_ordered_cart_takes_no_more_lines(mug, pan):
    cart = ready_cart([(mug, 1)])
    order_place(cart=type(cart).objects.get(pk=cart.pk))
    assert cart.status == "open"  # the stale object the other request holds

    with pytest.raises(CartError):
        cart_add(cart=cart, variant_id=pan.pk, quantity=1)
    assert not cart.lines.filter(variant=pan).exists()


# --- 10. Lock order: order_cancel takes stock, then the voucher ------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_and_checkout_with_the_same_voucher_do_not_deadlock(monkeypatch):
    import threading

    from django.db import connection

    from orders import services

    warehouse = WarehouseFactory()
    variant = VariantFactory(price=Decimal("10.00"))
    stock(variant, warehouse, 10)
    voucher = VoucherFactory(code="SPRING")
    first = ready_cart([(variant, 1)], email="one@example.net")
    cart_voucher_apply(cart=first, code="SPRING")
    placed = order_place(cart=first)
    second = ready_cart([(variant, 1)], email="two@example.net")
    cart_voucher_apply(cart=second, code="SPRING")

    # Hooks only mark where each transaction is; the locks are the production code's.
    cancel_holds_stock, checkout_holds_voucher = threading.Event(), threading.Event()
    real_deallocate, real_price = services.stock_deallocate, services.price_lines

    def deallocate(**kwargs):
        units = real_deallocate(**kwargs)
        cancel_holds_stock.set()
        checkout_holds_voucher.wait(5)
        return units

    def price(**kwargs):
        checkout_holds_voucher.set()
        return real_price(**kwargs)

    monkeypatch.setattr(services, "stock_deallocate", deallocate)
    monkeypatch.setattr(services, "price_lines", price)
    errors: list[Exception] = []

    def run(work) -> None:
        try:
            work()
        except Exception as err:
            errors.append(err)
        finally:
            connection.close()

    def checkout() -> None:
        cancel_holds_stock.wait(5)
        order_place(cart=type(second).objects.get(pk=second.pk))

    threads = [
        threading.Thread(target=run, args=(lambda: order_cancel(order=placed),)),
        threading.Thread(target=run, args=(checkout,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    voucher.refresh_from_db()
    assert voucher.times_used == 1


# --- 11. Payments: a retry while an attempt is processing charges twice ----------------------


def test_no_retry_while_a_payment_is_processing(mug):
    from orders.services import payment_retry

    order = order_place(cart=ready_cart([(mug, 1)]))
    first = order.payments.get()
    payment_status_set(payment=first, status=Payment.Status.PROCESSING)
    with pytest.raises(OrderError):
        payment_retry(order=order, provider_code="cash_on_delivery")


# --- 12. Tax excluded: refunding every line and all shipping leaves the shipping tax ----------


def test_tax_excluded_refund_of_everything_by_lines_refunds_the_total(mug, staff, settings):
    from tests.factories.orders import TaxRateFactory

    settings.PRICES_INCLUDE_TAX = False
    TaxRateFactory(country="DE", rate=Decimal("19"))
    order = order_place(cart=ready_cart([(mug, 1)]))
    assert order.total == Decimal("17.73")  # 10.00 + 1.90 tax + 4.90 shipping + 0.93 tax
    order_mark_paid(order=order, actor=staff)
    order.refresh_from_db()
    line = order.lines.get()

    refund_create(order=order, lines={line.pk: 1}, shipping=order.shipping_total)

    order.refresh_from_db()
    assert order.refunded_total == order.total
    assert order.status == Order.Status.REFUNDED


# --- 13. Consent: opting out in the account does not stop abandonment emails -----------------


def test_consent_withdrawn_in_the_account_stops_abandonment_emails(mug):
    from datetime import timedelta

    from django.utils import timezone

    from customers.records import customer_consent_set, customer_for_email
    from marketing.abandonment import abandonment_due, abandonment_sequence_get
    from orders.services import cart_checkout_update, cart_create

    customer = customer_for_email(email="ada@example.net")
    customer_consent_set(customer=customer, accepts=False, source="account")
    cart = cart_create()
    cart_add(cart=cart, variant_id=mug.pk, quantity=1)
    cart_checkout_update(cart=cart, email="ada@example.net")
    sequence = abandonment_sequence_get()

    later = timezone.now() + timedelta(hours=sequence.step1_delay_hours, minutes=5)
    assert abandonment_due(now=later, sequence=sequence) == []


# --- 14. Stock: a refund that ends the order leaves its allocation forever --------------------


def test_fully_refunded_unshipped_order_releases_its_stock(paid_order, mug, pan):
    refund_create(order=paid_order, amount=paid_order.paid_total)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.REFUNDED

    assert StockLevel.objects.get(variant=mug).allocated == 0
    assert StockLevel.objects.get(variant=pan).allocated == 0


# --- 15. Lock order: a restocking refund takes the customer row, then stock -------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restocking_refund_and_checkout_of_the_same_customer_do_not_deadlock(monkeypatch):
    import threading

    from django.db import connection

    from orders import refunds, services

    warehouse = WarehouseFactory()
    variant = VariantFactory(price=Decimal("10.00"))
    stock(variant, warehouse, 10)
    placed = order_place(cart=ready_cart([(variant, 1)]))
    order_mark_paid(order=placed, actor=StaffFactory())
    line = placed.lines.get()
    second = ready_cart([(variant, 1)])  # same email, same customer

    refund_holds_customer, checkout_holds_stock = threading.Event(), threading.Event()
    real_spent, real_allocate = refunds.customer_spent_changed, services.stock_allocate

    def spent(**kwargs):
        real_spent(**kwargs)
        refund_holds_customer.set()
        checkout_holds_stock.wait(5)

    def allocate(**kwargs):
        made = real_allocate(**kwargs)
        checkout_holds_stock.set()
        return made

    monkeypatch.setattr(refunds, "customer_spent_changed", spent)
    monkeypatch.setattr(services, "stock_allocate", allocate)
    errors: list[Exception] = []

    def run(work) -> None:
        try:
            work()
        except Exception as err:
            errors.append(err)
        finally:
            connection.close()

    def checkout() -> None:
        refund_holds_customer.wait(5)
        order_place(cart=type(second).objects.get(pk=second.pk))

    def refund() -> None:
        refund_create(order=Order.objects.get(pk=placed.pk), lines={line.pk: 1}, restock=True)

    threads = [
        threading.Thread(target=run, args=(refund,)),
        threading.Thread(target=run, args=(checkout,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []


# --- 16. Risk: a re-assessment counts orders placed after this one ----------------------------


def test_velocity_counts_only_orders_before_this_one(mug):
    from orders.risk import risk_reasons

    first = order_place(cart=ready_cart([(mug, 1)], email="ada@example.net"))
    for _ in range(2):
        order_place(cart=ready_cart([(mug, 1)], email="ada@example.net"))

    rules = {reason["rule"] for reason in risk_reasons(order=first)}
    assert "velocity_email" not in rules


# --- 17. Accounts: an order placed while signed in is not in that account --------------------


def test_signed_in_shopper_sees_the_order_they_placed(mug):
    from django.utils import timezone

    from orders.selectors import order_get_for_user_or_404
    from tests.factories import ShopperFactory

    shopper = ShopperFactory(email="ada@example.net", email_confirmed_at=timezone.now())
    cart = ready_cart([(mug, 1)], email="ada.work@example.org", user=shopper)
    order = order_place(cart=cart, user=shopper)
    assert order.user == shopper

    assert order_get_for_user_or_404(user=shopper, number=order.number) == order


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_double_clicked_line_refund_is_refused_cleanly(monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    # The provider call sits between the two transactions; hold it until both clicks
    # got there (or 3 s), as a slow provider would. Alone, a click just waits 3 s.
    both_opened = threading.Barrier(2)

    def slow_refund(self, *, refund):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_opened.wait(3)
        return Refund.Status.SUCCEEDED

    monkeypatch.setattr(ManualProvider, "refund", slow_refund)

    warehouse = WarehouseFactory()
    cheap = VariantFactory(price=Decimal("10.00"))
    dear = VariantFactory(price=Decimal("50.00"))
    stock(cheap, warehouse, 10)
    stock(dear, warehouse, 10)
    order = order_place(cart=ready_cart([(cheap, 2), (dear, 1)]))
    order_mark_paid(order=order, actor=StaffFactory())
    line = order.lines.get(variant=cheap)
    barrier = threading.Barrier(2)

    def click() -> object:
        try:
            barrier.wait(30)
            return refund_create(order=Order.objects.get(pk=order.pk), lines={line.pk: 2})
        except Exception as err:
            return err
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: click(), range(2)))

    assert sorted(type(result).__name__ for result in results) == ["OrderError", "Refund"]
    assert not Refund.objects.filter(status=Refund.Status.PENDING).exists()
