"""Refunds: full or partial, by line or by amount, through the payment's provider.

Two steps, so that no network call happens inside a database transaction holding the
order's lock: `refund_create` writes a pending refund (checked against what is still
refundable, pending refunds included, under the order's row lock) and commits; then the
provider is called with an idempotency key derived from the refund's id, so a retry after
a timeout refunds once. `refund_status_set` applies the outcome, from the call or from
the provider's webhook, forward only.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from config.money import money_round
from customers.records import customer_spent_changed
from inventory.models import StockMovement, Warehouse
from inventory.services import stock_adjust, stock_deallocate
from orders.models import Order, OrderEvent, OrderLine, Payment, Refund
from orders.services import OrderError, _email, _reference, event_add, order_transition

ZERO = Decimal("0.00")


def _pending_units(order: Order) -> dict[int, int]:
    """Units of each line in refunds still waiting for the provider: they are spoken for."""
    pending: dict[int, int] = {}
    for refund in order.refunds.filter(status=Refund.Status.PENDING).only("lines"):
        for line_id, quantity in refund.lines.items():
            pending[int(line_id)] = pending.get(int(line_id), 0) + int(quantity)
    return pending


def line_share(line: OrderLine, units: int, currency: str) -> Decimal:
    """What `units` of a line cost the shopper: its total (after discount, with tax) pro
    rata, rounded once."""
    return money_round(line.line_total * units / line.quantity, currency)


def refund_amount_for_lines(*, order: Order, lines: dict[int, int]) -> Decimal:
    """What {line id: quantity} cost the shopper: each line's total (after its discount,
    with tax) pro rata. Shares are rounded cumulatively, so refunding a line unit by unit
    adds up to its total to the cent. Units already refunded or in a pending refund cannot
    be refunded again; raises OrderError naming the line."""
    by_id = {line.pk: line for line in order.lines.all()}
    pending = _pending_units(order)
    amount = ZERO
    for line_id, quantity in lines.items():
        line = by_id.get(int(line_id))
        if line is None:
            raise OrderError("That line is not on this order.")
        if quantity < 0:
            raise OrderError("A quantity cannot be negative.")
        done = line.quantity_refunded + pending.get(line.pk, 0)
        if quantity > line.quantity - done:
            raise OrderError(f"{line.sku}: only {line.quantity - done} can still be refunded.")
        amount += line_share(line, done + quantity, order.currency) - line_share(
            line, done, order.currency
        )
    return amount


def _shipping_given(order: Order) -> Decimal:
    given = order.refunds.exclude(status=Refund.Status.FAILED).aggregate(
        total=Sum("shipping_amount")
    )["total"]
    return given or ZERO


def shipping_refundable(order: Order) -> Decimal:
    """Shipping (as the order's shipping_total counts it) not yet refunded, pending
    refunds included."""
    return max(order.shipping_total - _shipping_given(order), ZERO)


def _shipping_tax_share(order: Order, shipping: Decimal) -> Decimal:
    """When prices exclude tax the shopper paid tax on shipping too: a shipping refund
    carries its share, rounded cumulatively so shares add up to the whole."""
    if order.prices_include_tax or not shipping or not order.shipping_total:
        return ZERO
    lines_tax = order.lines.aggregate(total=Sum("tax_amount"))["total"] or ZERO
    shipping_tax = order.tax_total - lines_tax
    done = _shipping_given(order)

    def share(part: Decimal) -> Decimal:
        return money_round(shipping_tax * part / order.shipping_total, order.currency)

    return share(done + shipping) - share(done)


def refundable(order: Order) -> Decimal:
    """Paid, less refunded, less refunds still pending."""
    pending = order.refunds.filter(status=Refund.Status.PENDING).aggregate(total=Sum("amount"))
    return order.paid_total - order.refunded_total - (pending["total"] or ZERO)


@transaction.atomic
def _refund_open(
    *,
    order: Order,
    amount: Decimal | None,
    lines: dict[int, int],
    restock: bool,
    reason: str,
    actor,
    shipping: Decimal = ZERO,
) -> Refund:
    order = Order.objects.select_for_update().get(pk=order.pk)
    lines = {int(line_id): int(qty) for line_id, qty in lines.items() if int(qty) > 0}
    shipping = money_round(shipping or ZERO, order.currency)
    if shipping < 0:
        raise OrderError("A shipping refund cannot be negative.")
    if shipping and not lines:
        raise OrderError("Refund shipping with lines, or put it in the amount.")
    if shipping > shipping_refundable(order):
        raise OrderError(
            f"At most {shipping_refundable(order)} {order.currency} of shipping can be refunded."
        )
    if lines:
        amount = (
            refund_amount_for_lines(order=order, lines=lines)
            + shipping
            + _shipping_tax_share(order, shipping)
        )
    if amount is None or amount <= 0:
        raise OrderError("Choose lines to refund or enter an amount above zero.")
    amount = money_round(amount, order.currency)
    left = refundable(order)
    if amount > left:
        raise OrderError(f"At most {left} {order.currency} can be refunded.")
    payment = (
        order.payments.filter(status=Payment.Status.SUCCEEDED)
        .annotate(left=F("amount") - F("amount_refunded"))
        .filter(left__gte=amount)
        .order_by("-left", "pk")
        .first()
    )
    if payment is None:
        raise OrderError("No single payment of this order covers that amount; refund less.")
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        amount=amount,
        shipping_amount=shipping,
        currency=order.currency,
        reason=reason.strip()[:200],
        lines={str(line_id): qty for line_id, qty in lines.items()},
        restock=restock and bool(lines),
        created_by=actor,
    )
    refund.idempotency_key = f"refund-{refund.pk}"
    refund.save(update_fields=["idempotency_key"])
    return refund


def refund_create(
    *,
    order: Order,
    amount: Decimal | None = None,
    lines: dict[int, int] | None = None,
    restock: bool = False,
    reason: str = "",
    actor=None,
    shipping: Decimal = ZERO,
) -> Refund:
    """Refund an order: by lines ({line id: quantity}, with optional `shipping` on top) or
    by `amount`. Through Stripe for card payments; recorded for manual ones. `restock`
    puts refunded units back: unshipped ones are released from the order's allocation,
    shipped ones come back into stock as a "return". Raises OrderError; a provider failure
    leaves a failed refund on the timeline and raises PaymentError."""
    from orders.payments import PaymentError, provider_for

    refund = _refund_open(
        order=order,
        amount=amount,
        lines=lines or {},
        restock=restock,
        reason=reason,
        actor=actor,
        shipping=shipping,
    )
    try:
        status = provider_for(refund.payment.provider).refund(refund=refund)
    except PaymentError as err:
        refund_status_set(refund=refund, status=Refund.Status.FAILED, failure_message=str(err))
        raise
    # Pending: the provider's webhook brings the outcome later.
    return refund_status_set(refund=refund, status=status)


def _release_and_restock(order: Order, refund: Refund, actor) -> tuple[int, int]:
    """A refund's units: those not shipped yet never will be, so their allocation is
    released whatever `restock` says; shipped ones come back into stock as a return (into
    the first active warehouse) only when `restock`. Earlier refunds are taken to have
    used up the unshipped units first. Returns (released, returned)."""
    lines = {line.pk: line for line in order.lines.filter(pk__in=[int(k) for k in refund.lines])}
    released = returned = 0
    warehouse = Warehouse.objects.filter(is_active=True).first() if refund.restock else None
    for line_id, quantity in refund.lines.items():
        line = lines[int(line_id)]
        if line.variant_id is None or not quantity:
            continue
        # quantity_refunded already counts this refund.
        refunded_before = line.quantity_refunded - quantity
        open_units = max(line.quantity - line.quantity_fulfilled - refunded_before, 0)
        unshipped = min(quantity, open_units)
        if unshipped:
            released += stock_deallocate(
                reference=_reference(order), quantities={line.variant_id: unshipped}
            )
        shipped = quantity - unshipped
        if shipped and warehouse is not None:
            stock_adjust(
                variant_id=line.variant_id,
                warehouse=warehouse,
                delta=shipped,
                reason=StockMovement.Reason.RETURN,
                reference=_reference(order),
                actor=actor,
            )
            returned += shipped
    return released, returned


def _units(count: int) -> str:
    return f"{count} {'unit' if count == 1 else 'units'}"


@transaction.atomic
def refund_status_set(*, refund: Refund, status: str, failure_message: str = "") -> Refund:
    """Apply a refund's outcome once: pending → succeeded or failed; anything else is a
    no-op (a late or repeated webhook)."""
    order = Order.objects.select_for_update().get(pk=refund.order_id)
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if refund.status != Refund.Status.PENDING or status == Refund.Status.PENDING:
        return refund
    refund.status = status
    refund.failure_message = failure_message[:300]
    refund.save(update_fields=["status", "failure_message"])
    actor = refund.created_by
    if status == Refund.Status.FAILED:
        event_add(
            order=order,
            kind=OrderEvent.Kind.REFUND,
            message=f"Refund of {refund.amount} {refund.currency} failed: {failure_message}",
            actor=actor,
        )
        return refund

    Payment.objects.filter(pk=refund.payment_id).update(
        amount_refunded=F("amount_refunded") + refund.amount, updated_at=timezone.now()
    )
    for line_id, quantity in refund.lines.items():
        OrderLine.objects.filter(pk=int(line_id), order=order).update(
            quantity_refunded=F("quantity_refunded") + quantity
        )
    order.refunded_total += refund.amount
    from orders.services import _order_payment_status

    order.payment_status = _order_payment_status(order)
    order.updated_at = timezone.now()
    order.save(update_fields=["refunded_total", "payment_status", "updated_at"])
    message = f"Refunded {refund.amount} {refund.currency}"
    if refund.reason:
        message += f": {refund.reason}"
    event_add(order=order, kind=OrderEvent.Kind.REFUND, message=message, actor=actor)
    # Stock before the customer row: placement takes them in that order too.
    released = returned = 0
    if refund.lines:
        released, returned = _release_and_restock(order, refund, actor)
    fully = order.refunded_total >= order.paid_total
    if fully and order.status in (
        Order.Status.PAID,
        Order.Status.PARTIALLY_FULFILLED,
        Order.Status.FULFILLED,
        Order.Status.ON_HOLD,
    ):
        order_transition(order=order, to=Order.Status.REFUNDED, actor=actor)
        # Nothing of a refunded order ships any more: what is still allocated goes back.
        released += stock_deallocate(reference=_reference(order))
    if released:
        event_add(
            order=order,
            kind=OrderEvent.Kind.STOCK,
            message=f"{_units(released)} not shipped released back to stock.",
            actor=actor,
        )
    if returned:
        event_add(
            order=order,
            kind=OrderEvent.Kind.STOCK,
            message=f"{_units(returned)} back in stock.",
            actor=actor,
        )
    if order.status != Order.Status.CANCELLED:
        # A cancelled order left the customer's figures when it was cancelled.
        customer_spent_changed(customer_id=order.customer_id, delta=-refund.amount)
    _email(order, f"refund:{refund.pk}")
    return refund
