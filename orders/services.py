"""Every write of carts and orders: `<entity>_<verb>(*, ...)`, each in its own transaction.

Lock order, everywhere: the cart row, then the voucher row, then the order row, and only
then stock rows (through inventory's services, which lock variants in primary-key order).
No path here takes a stock lock and then waits for an order, cart or voucher, so two
transactions cannot wait on each other. Callers above (fulfillment) keep the same order:
order first (order_fulfillment_record), then stock_ship.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product, Variant
from customers.records import customer_for_email, customer_order_recorded, customer_spent_changed
from inventory.services import (
    InsufficientStock,
    stock_allocate,
    stock_deallocate,
    stock_release,
    stock_reserve,
)
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Voucher,
    VoucherRedemption,
)
from orders.pricing import Totals, VoucherError, price_lines, shipping_methods_for

Status = Order.Status
ZERO = Decimal("0.00")
MAX_LINE_QUANTITY = 99


class OrderError(Exception):
    """An order operation that cannot be done as asked; the message says why."""


class IllegalTransition(OrderError):
    pass


class CartError(Exception):
    """A cart change that cannot be made; the message is for the shopper."""


class CheckoutError(Exception):
    """The cart cannot become an order yet; `problems` lists what to fix, for the shopper."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


def _reference(order: Order) -> str:
    """The key of an order's allocations and ledger rows in inventory."""
    return f"order:{order.number}"


# --- Carts -----------------------------------------------------------------------------------


def cart_create(*, user=None) -> Cart:
    return Cart.objects.create(user=user, currency=settings.STORE_CURRENCY)


def _touch(cart: Cart) -> None:
    cart.updated_at = timezone.now()
    Cart.objects.filter(pk=cart.pk).update(updated_at=cart.updated_at)


def _variant_id(raw: object) -> int:
    """A variant id from a form or URL; anything else is a product we do not sell."""
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 18:
        raise CartError("This product is not available.")
    return int(text)


def _sellable(variant_id: int) -> Variant:
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or variant.product.status != Product.Status.ACTIVE:
        raise CartError("This product is not available.")
    return variant


def _hold(cart: Cart, variant: Variant, quantity: int) -> None:
    """Hold stock for the cart (inventory); a short hold is explained to the shopper."""
    if not variant.track_inventory:
        return
    try:
        stock_reserve(variant_id=variant.pk, quantity=quantity, cart_key=cart.token)
    except InsufficientStock as err:
        wanted, available = err.short[variant.pk]
        if available == 0:
            raise CartError(f"{variant} is sold out.") from None
        raise CartError(f"Only {available} of {variant} left; you asked for {wanted}.") from None


@transaction.atomic
def cart_set_quantity(*, cart: Cart, variant_id: int, quantity: int) -> CartLine | None:
    """Set a line's quantity (0 removes it), holding the stock; None when removed."""
    if not 0 <= quantity <= MAX_LINE_QUANTITY:
        raise CartError(f"Choose a quantity from 0 to {MAX_LINE_QUANTITY}.")
    # The row, locked, not the object we were given: another tab may have ordered it. The
    # cart before stock rows, as placement takes them.
    status = Cart.objects.select_for_update().filter(pk=cart.pk).values_list("status", flat=True)
    if cart.status != Cart.Status.OPEN or status.first() != Cart.Status.OPEN:
        raise CartError("This cart has already been ordered.")
    variant_id = _variant_id(variant_id)
    if quantity == 0:
        CartLine.objects.filter(cart=cart, variant_id=variant_id).delete()
        stock_release(cart_key=cart.token, variant_id=variant_id)
        _touch(cart)
        return None
    variant = _sellable(variant_id)
    _hold(cart, variant, quantity)
    line, _ = CartLine.objects.update_or_create(
        cart=cart,
        variant=variant,
        defaults={"quantity": quantity, "price_seen": variant.price},
    )
    _touch(cart)
    return line


@transaction.atomic
def cart_add(*, cart: Cart, variant_id: int, quantity: int = 1) -> CartLine:
    """Add `quantity` of a variant to what the cart already has of it."""
    if quantity < 1:
        raise CartError("Add at least one.")
    variant_id = _variant_id(variant_id)
    current = (
        CartLine.objects.filter(cart=cart, variant_id=variant_id)
        .values_list("quantity", flat=True)
        .first()
        or 0
    )
    line = cart_set_quantity(
        cart=cart,
        variant_id=variant_id,
        quantity=min(current + quantity, MAX_LINE_QUANTITY),
    )
    assert line is not None
    return line


def cart_remove(*, cart: Cart, variant_id: int) -> None:
    cart_set_quantity(cart=cart, variant_id=variant_id, quantity=0)


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> Cart:
    """A guest cart joins the signed-in shopper's cart: quantities add up where stock
    allows (what does not fit is left out, the rest is kept); the guest cart is closed."""
    if source.pk == target.pk or source.status != Cart.Status.OPEN:
        return target
    for line in source.lines.select_related("variant"):
        try:
            cart_add(cart=target, variant_id=line.variant_id, quantity=line.quantity)
        except CartError:
            continue
    if not target.email and source.email:
        target.email = source.email
    if target.voucher_id is None and source.voucher_id:
        target.voucher_id = source.voucher_id
    target.save(update_fields=["email", "voucher"])
    stock_release(cart_key=source.token)
    source.status = Cart.Status.MERGED
    source.save(update_fields=["status"])
    return target


def cart_voucher_apply(*, cart: Cart, code: str) -> Voucher:
    """Attach a voucher by code; raises VoucherError with the reason it does not apply."""
    code = code.strip()
    voucher = Voucher.objects.filter(code__iexact=code).first() if code else None
    if voucher is None:
        raise VoucherError(f"We don't know the code {code!r}." if code else "Enter a code.")
    if not cart.lines.exists():
        # Nothing to check the code against (dates, limits, products): not yet.
        raise VoucherError("Add something to your cart first, then enter the code.")
    totals = cart_totals(cart=cart, voucher=voucher)
    if totals.voucher_problem:
        raise VoucherError(totals.voucher_problem)
    cart.voucher = voucher
    cart.save(update_fields=["voucher"])
    _touch(cart)
    return voucher


def cart_voucher_remove(*, cart: Cart) -> None:
    cart.voucher = None
    cart.save(update_fields=["voucher"])


def cart_checkout_update(*, cart: Cart, **fields: object) -> Cart:
    """Save what the shopper entered at checkout: email, addresses, shipping method id,
    payment method. Validation is the forms' job; placement checks everything again."""
    allowed = {
        "email",
        "shipping_address",
        "billing_address",
        "billing_same_as_shipping",
        "shipping_method",
        "payment_method",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Not a checkout field: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        if name == "email":
            value = str(value).strip().lower()
        setattr(cart, name, value)
    now = timezone.now()
    changed = [*fields, "updated_at"]
    if cart.checkout_started_at is None:
        cart.checkout_started_at = now
        changed.append("checkout_started_at")
    cart.updated_at = now
    cart.save(update_fields=changed)
    return cart


def cart_items(cart: Cart) -> list[tuple[Variant, int]]:
    lines = cart.lines.select_related("variant__product__category").order_by("added_at", "pk")
    return [(line.variant, line.quantity) for line in lines]


def cart_totals(*, cart: Cart, voucher: Voucher | None = None) -> Totals:
    return price_lines(
        items=cart_items(cart),
        currency=cart.currency,
        address=cart.shipping_address,
        shipping_method=cart.shipping_method,
        voucher=voucher or cart.voucher,
        email=cart.email,
    )


def cart_problems(*, cart: Cart) -> list[str]:
    """What the shopper must know before paying: gone products and changed prices.
    Each is said, never silently dropped (the line stays until they remove it)."""
    problems = []
    for line in cart.lines.select_related("variant__product"):
        variant = line.variant
        if variant.product.status != Product.Status.ACTIVE:
            problems.append(f"{variant} is no longer sold; remove it to continue.")
        elif line.price_seen != variant.price:
            problems.append(
                f"The price of {variant} changed from {line.price_seen} to {variant.price}."
            )
    return problems


def cart_prices_acknowledge(*, cart: Cart) -> None:
    """The shopper saw the new prices: remember them as seen."""
    for line in cart.lines.select_related("variant"):
        if line.price_seen != line.variant.price:
            line.price_seen = line.variant.price
            line.save(update_fields=["price_seen"])


def cart_holds_renew(*, cart: Cart) -> list[str]:
    """Hold the cart's stock for another CART_RESERVATION_MINUTES (checkout start), without
    touching the prices seen. Returns what could not be held, for the shopper; each line is
    renewed in its own transaction, so one short line does not drop the others' holds."""
    problems = []
    for line in cart.lines.select_related("variant__product"):
        if line.variant.product.status != Product.Status.ACTIVE:
            continue  # cart_problems says so
        try:
            with transaction.atomic():
                _hold(cart, line.variant, line.quantity)
        except CartError as err:
            problems.append(str(err))
    return problems


# --- Order state -----------------------------------------------------------------------------

TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING_PAYMENT: {Status.PAID, Status.ON_HOLD, Status.CANCELLED},
    Status.PAID: {
        Status.PARTIALLY_FULFILLED,
        Status.FULFILLED,
        Status.ON_HOLD,
        Status.CANCELLED,
        Status.REFUNDED,
    },
    Status.PARTIALLY_FULFILLED: {Status.FULFILLED, Status.ON_HOLD, Status.REFUNDED},
    Status.FULFILLED: {Status.REFUNDED},
    Status.ON_HOLD: {
        Status.PENDING_PAYMENT,
        Status.PAID,
        Status.PARTIALLY_FULFILLED,
        Status.CANCELLED,
        # Refunded in full while held (a fraud check that said no): it must not go back.
        Status.REFUNDED,
    },
    Status.CANCELLED: set(),
    Status.REFUNDED: set(),
}


def event_add(
    *, order: Order, kind: str, message: str, actor=None, data: dict | None = None, **extra
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, kind=kind, message=message[:500], actor=actor, data=data or {}, **extra
    )


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_transition(*, order: Order, to: str, actor=None, message: str = "") -> Order:
    """Move an order to `to`, refusing a move the table does not allow; writes the event."""
    locked = _locked(order)
    current = locked.status
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"An order that is {Status(current).label.lower()} cannot become "
            f"{Status(to).label.lower()}."
        )
    now = timezone.now()
    locked.status = to
    fields = ["status", "updated_at"]
    if to == Status.ON_HOLD:
        locked.held_from = current
        fields.append("held_from")
    elif current == Status.ON_HOLD:
        locked.held_from = ""
        locked.hold_reason = ""
        fields += ["held_from", "hold_reason"]
    if to == Status.CANCELLED:
        locked.cancelled_at = now
        fields.append("cancelled_at")
    locked.updated_at = now
    locked.save(update_fields=fields)
    event_add(
        order=locked,
        kind=OrderEvent.Kind.STATUS,
        message=message or f"{Status(current).label} → {Status(to).label}",
        actor=actor,
        from_status=current,
        to_status=to,
    )
    order.__dict__.update(locked.__dict__)
    return order


def _email(order: Order, key: str) -> None:
    from orders.tasks import order_email_task

    order_id = order.pk
    transaction.on_commit(lambda: order_email_task.delay(order_id, key))


# --- Placing an order ------------------------------------------------------------------------


def _checkout_problems(cart: Cart, lines: list[CartLine]) -> list[str]:
    problems = []
    if not lines:
        problems.append("Your cart is empty.")
    if not cart.email:
        problems.append("Enter your email address.")
    address = cart.shipping_address or {}
    if not all(address.get(key) for key in ("full_name", "line1", "city", "country")):
        problems.append("Enter a shipping address.")
    if cart.shipping_method is None:
        problems.append("Choose a shipping method.")
    elif cart.shipping_method not in shipping_methods_for(country=address.get("country", "")):
        problems.append("The chosen shipping method does not deliver to that country.")
    from orders.payments import PaymentError, provider_for

    if not cart.payment_method:
        problems.append("Choose how to pay.")
    else:
        try:
            available = provider_for(cart.payment_method).is_available()
        except PaymentError:  # a method since removed from the store
            available = False
        if not available:
            problems.append("That payment method is not available.")
    problems += cart_problems(cart=cart)
    return problems


def order_place(*, cart: Cart, ip_address: str | None = None, user=None) -> Order:
    """Turn a cart into an order, once: a double click or a retried POST gets the same
    order back (the cart's token is unique on orders, and the cart row is locked).

    Stock is allocated in the same transaction; when anything is short the shopper is
    told what (CheckoutError) and nothing is written, so nothing can be charged.
    """
    try:
        return _order_place(cart=cart, ip_address=ip_address, user=user)
    except IntegrityError:
        # A racing request placed it between our check and our insert.
        existing = Order.objects.filter(cart_token=cart.token).first()
        if existing is None:
            raise
        return existing


@transaction.atomic
def _order_place(*, cart: Cart, ip_address: str | None, user) -> Order:
    existing = Order.objects.filter(cart_token=cart.token).first()
    if existing is not None:
        return existing
    lines = list(cart.lines.select_related("variant__product__category").order_by("pk"))
    problems = _checkout_problems(cart, lines)
    if problems:
        raise CheckoutError(problems)

    # Lock order: stock rows (inside stock_allocate, below) come first in inventory; here
    # the cart row serialises two placements of the same cart before anything else.
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    if cart.status != Cart.Status.OPEN:
        existing = Order.objects.filter(cart_token=cart.token).first()
        if existing is not None:
            return existing
        raise CheckoutError(["This cart can no longer be ordered."])

    voucher = None
    if cart.voucher_id:
        voucher = Voucher.objects.select_for_update().get(pk=cart.voucher_id)
    totals = price_lines(
        items=[(line.variant, line.quantity) for line in lines],
        currency=cart.currency,
        address=cart.shipping_address,
        shipping_method=cart.shipping_method,
        voucher=voucher,
        email=cart.email,
    )
    if voucher is not None and totals.voucher_problem:
        raise CheckoutError([totals.voucher_problem + " Remove it to continue."])

    address = cart.shipping_address
    billing = address if cart.billing_same_as_shipping else (cart.billing_address or address)
    customer = customer_for_email(
        email=cart.email,
        full_name=address.get("full_name", ""),
        user=user if user is not None and user.is_authenticated else None,
    )
    now = timezone.now()
    order = Order.objects.create(
        cart_token=cart.token,
        customer=customer,
        user=user if user is not None and user.is_authenticated else None,
        email=cart.email,
        currency=cart.currency,
        prices_include_tax=totals.prices_include_tax,
        subtotal=totals.subtotal,
        discount_total=totals.discount,
        shipping_total=totals.shipping,
        tax_total=totals.tax,
        total=totals.total,
        shipping_address=address,
        billing_address=billing,
        shipping_method=cart.shipping_method,
        shipping_method_name=cart.shipping_method.name,
        voucher=voucher,
        voucher_code=voucher.code if voucher else "",
        payment_method=cart.payment_method,
        ip_address=ip_address,
        created_at=now,
        updated_at=now,
    )
    order.number = str(1000 + order.pk)
    order.save(update_fields=["number"])

    order_lines = []
    for priced in totals.lines:
        variant = priced.variant
        order_lines.append(
            OrderLine(
                order=order,
                variant=variant,
                product_title=variant.product.title,
                variant_title=variant.title,
                sku=variant.sku,
                quantity=priced.quantity,
                unit_price=priced.unit_price,
                unit_cost=variant.cost,
                discount_amount=priced.discount,
                tax_rate=priced.tax_rate,
                tax_amount=priced.tax,
                line_total=priced.total,
                weight_grams=variant.weight_grams,
            )
        )
    OrderLine.objects.bulk_create(order_lines)
    order.cost_total = sum(((line.unit_cost or ZERO) * line.quantity for line in order_lines), ZERO)
    order.save(update_fields=["cost_total"])

    tracked = {}
    for line in lines:
        if line.variant.track_inventory:
            tracked[line.variant_id] = tracked.get(line.variant_id, 0) + line.quantity
    if tracked:
        try:
            stock_allocate(reference=_reference(order), lines=tracked, cart_key=cart.token)
        except InsufficientStock as err:
            names = {line.variant_id: str(line.variant) for line in lines}
            raise CheckoutError(
                [
                    f"Only {available} of {names[variant_id]} left; you have {wanted} in your cart."
                    if available
                    else f"{names[variant_id]} sold out while you were checking out."
                    for variant_id, (wanted, available) in err.short.items()
                ]
            ) from None
    stock_release(cart_key=cart.token)  # untracked leftovers, if any

    if voucher is not None:
        Voucher.objects.filter(pk=voucher.pk).update(times_used=F("times_used") + 1)
        VoucherRedemption.objects.create(voucher=voucher, order=order, email=order.email)

    cart.status = Cart.Status.ORDERED
    cart.ordered_at = now
    cart.save(update_fields=["status", "ordered_at"])
    customer_order_recorded(customer_id=customer.pk, amount=order.total, placed_at=now)

    event_add(
        order=order,
        kind=OrderEvent.Kind.PLACED,
        message=f"Order placed by {order.email} for {order.total} {order.currency}.",
        actor=order.user,
    )
    Payment.objects.create(
        order=order,
        provider=order.payment_method,
        amount=order.total,
        currency=order.currency,
        idempotency_key=f"order-{order.number}-payment-1",
    )
    from orders.risk import risk_assess

    risk_assess(order=order)
    _email(order, "confirmation")
    return order


# --- Payments --------------------------------------------------------------------------------

# A payment only moves forward along this rank; an event that arrives late (processing
# after succeeded) changes nothing, so events in any order end in the same state.
PAYMENT_RANK = {
    Payment.Status.PENDING: 0,
    Payment.Status.PROCESSING: 1,
    Payment.Status.FAILED: 2,
    Payment.Status.SUCCEEDED: 3,
    Payment.Status.CANCELLED: 3,
}


def _order_payment_status(order: Order) -> str:
    if order.paid_total > 0 and order.refunded_total >= order.paid_total:
        return Order.PaymentStatus.REFUNDED
    if order.refunded_total > 0:
        return Order.PaymentStatus.PARTIALLY_REFUNDED
    if order.paid_total >= order.total and order.paid_total > 0:
        return Order.PaymentStatus.PAID
    latest = order.payments.order_by("-created_at", "-pk").first()
    if latest is not None and latest.status == Payment.Status.FAILED:
        return Order.PaymentStatus.FAILED
    if latest is not None and latest.status == Payment.Status.PROCESSING:
        return Order.PaymentStatus.PENDING
    return Order.PaymentStatus.UNPAID


@transaction.atomic
def payment_status_set(
    *,
    payment: Payment,
    status: str,
    failure_message: str = "",
    risk_level: str = "",
    actor=None,
) -> Payment:
    """Move a payment forward (never back) and the order with it. Returns the payment;
    a move backwards or sideways is ignored, so a redelivered or late event is harmless."""
    order = _locked(payment.order)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if PAYMENT_RANK[status] <= PAYMENT_RANK[payment.status] and not (
        # A failed attempt can still succeed (Stripe lets the shopper retry the same intent),
        # and so can one we cancelled when the shopper switched method: the card may have
        # been confirmed in another tab. Money that arrived is always recorded.
        payment.status in (Payment.Status.FAILED, Payment.Status.CANCELLED)
        and status == Payment.Status.SUCCEEDED
    ):
        return payment
    now = timezone.now()
    payment.status = status
    payment.updated_at = now
    if failure_message:
        payment.failure_message = failure_message[:300]
    if risk_level:
        payment.risk_level = risk_level
    if status == Payment.Status.SUCCEEDED:
        payment.succeeded_at = now
    payment.save()

    label = Payment.Status(status).label.lower()
    message = f"Payment of {payment.amount} {payment.currency} {label} ({payment.provider})"
    if failure_message:
        message += f": {failure_message}"
    event_add(order=order, kind=OrderEvent.Kind.PAYMENT, message=message, actor=actor)

    if status == Payment.Status.SUCCEEDED:
        order.paid_total += payment.amount
        if not order.paid_at:
            order.paid_at = now
        order.payment_status = _order_payment_status(order)
        order.updated_at = now
        order.save(update_fields=["paid_total", "paid_at", "payment_status", "updated_at"])
        if order.status == Status.PENDING_PAYMENT and order.paid_total >= order.total:
            order_transition(order=order, to=Status.PAID, actor=actor, message="Paid in full.")
        elif (
            order.status == Status.ON_HOLD
            and order.held_from == Status.PENDING_PAYMENT
            and order.paid_total >= order.total
        ):
            Order.objects.filter(pk=order.pk).update(held_from=Status.PAID)
        elif order.status == Status.CANCELLED:
            event_add(
                order=order,
                kind=OrderEvent.Kind.PAYMENT,
                message="Money arrived for a cancelled order: refund it.",
            )
        if (
            order.status != Status.CANCELLED
            and order.paid_total - order.refunded_total > order.total
        ):
            event_add(
                order=order,
                kind=OrderEvent.Kind.PAYMENT,
                message=f"Paid {order.paid_total - order.refunded_total - order.total} "
                f"{order.currency} more than the total (two payments): refund the difference.",
            )
        _email(order, f"payment_received:{payment.pk}")
        if risk_level:
            from orders.risk import risk_assess

            risk_assess(order=order)
    else:
        order.payment_status = _order_payment_status(order)
        order.save(update_fields=["payment_status"])
    return payment


def order_mark_paid(*, order: Order, actor) -> Payment:
    """Staff confirm that a manual payment (bank transfer, cash) came in."""
    from orders.payments import provider_for

    payment = (
        order.payments.filter(status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING])
        .order_by("-created_at")
        .first()
    )
    if payment is None or not provider_for(payment.provider).is_manual:
        raise OrderError("This order has no manual payment waiting to be confirmed.")
    return payment_status_set(payment=payment, status=Payment.Status.SUCCEEDED, actor=actor)


@transaction.atomic
def payment_retry(*, order: Order, provider_code: str) -> Payment:
    """A new attempt after a failed payment, with the same or another method."""
    from orders.payments import provider_for

    order = _locked(order)
    if order.status != Status.PENDING_PAYMENT:
        raise OrderError("This order does not wait for a payment.")
    provider = provider_for(provider_code)
    if not provider.is_available():
        raise OrderError("That payment method is not available.")
    processing = order.payments.filter(status=Payment.Status.PROCESSING).first()
    if processing is not None and processing.provider != provider_code:
        # Both could still succeed and the shopper would pay twice.
        raise OrderError(
            "A payment for this order is being processed; wait for it to succeed or fail."
        )
    open_attempt = order.payments.filter(
        status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING], provider=provider_code
    ).first()
    if open_attempt is not None:
        return open_attempt
    order.payments.filter(status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELLED, updated_at=timezone.now()
    )
    attempt = order.payments.count() + 1
    order.payment_method = provider_code
    order.save(update_fields=["payment_method"])
    return Payment.objects.create(
        order=order,
        provider=provider_code,
        amount=order.balance_due,
        currency=order.currency,
        idempotency_key=f"order-{order.number}-payment-{attempt}",
    )


# --- Holds and cancelling --------------------------------------------------------------------


@transaction.atomic
def order_hold(*, order: Order, reason: str, actor=None) -> Order:
    order_transition(order=order, to=Status.ON_HOLD, actor=actor, message=f"On hold: {reason}")
    Order.objects.filter(pk=order.pk).update(hold_reason=reason[:200])
    order.hold_reason = reason[:200]
    return order


@transaction.atomic
def order_release(*, order: Order, actor) -> Order:
    """Staff checked a held order and let it go on: back to where it was held from."""
    locked = _locked(order)
    if locked.status != Status.ON_HOLD:
        raise OrderError("This order is not on hold.")
    if (
        locked.is_disputed
        and locked.disputes.filter(
            status__in=["warning_needs_response", "needs_response", "under_review"]
        ).exists()
    ):
        raise OrderError("This order has an open dispute; it stays on hold until it closes.")
    back = locked.held_from or Status.PENDING_PAYMENT
    return order_transition(order=order, to=back, actor=actor, message="Approved after review.")


@transaction.atomic
def order_cancel(*, order: Order, actor=None, reason: str = "") -> Order:
    """Cancel: give back allocated stock and the voucher use. A paid order keeps its
    money until staff refund it (the dashboard offers the refund next)."""
    locked = _locked(order)
    if locked.fulfillment_status != Order.FulfillmentStatus.UNFULFILLED:
        raise OrderError("Part of this order has shipped; refund or return it instead.")
    order_transition(
        order=order,
        to=Status.CANCELLED,
        actor=actor,
        message="Cancelled" + (f": {reason}" if reason else "."),
    )
    # The voucher row before stock rows, the order placement takes them in.
    if order.voucher_id:
        Voucher.objects.filter(pk=order.voucher_id, times_used__gt=0).update(
            times_used=F("times_used") - 1
        )
        VoucherRedemption.objects.filter(order=order).delete()
    units = stock_deallocate(reference=_reference(order))
    if units:
        event_add(
            order=order,
            kind=OrderEvent.Kind.STOCK,
            message=f"{units} {'unit' if units == 1 else 'units'} released back to stock.",
            actor=actor,
        )
    order.payments.filter(status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELLED, updated_at=timezone.now()
    )
    # What refunds already took out of the customer's figures is not taken out twice; a
    # refund after the cancel leaves them alone (orders.refunds).
    customer_spent_changed(
        customer_id=order.customer_id, delta=-(locked.total - locked.refunded_total), orders=-1
    )
    _email(order, "cancelled")
    return order


@transaction.atomic
def order_note_add(*, order: Order, message: str, actor) -> OrderEvent:
    message = message.strip()
    if not message:
        raise OrderError("Write a note first.")
    return event_add(order=order, kind=OrderEvent.Kind.NOTE, message=message, actor=actor)


# --- Fulfillment (called by the fulfillment app above this one) -------------------------------


def order_reference(order: Order) -> str:
    """The key of the order's allocations and ledger rows in inventory ("order:1042")."""
    return _reference(order)


@transaction.atomic
def order_fulfillment_record(
    *, order: Order, quantities: dict[int, int], actor=None, message: str = ""
) -> Order:
    """Count shipped units ({order line id: quantity}) on the order's lines and move the
    order to partially fulfilled or fulfilled. Shipping the stock itself is inventory's
    stock_ship, which the caller runs in the same transaction.

    Refuses an order on hold (fraud check, dispute) or not paid, and more than was
    ordered (less what was refunded)."""
    locked = _locked(order)
    if locked.status == Status.ON_HOLD:
        raise OrderError(
            f"Order {locked.number} is on hold: {locked.hold_reason or 'see timeline'}."
        )
    if locked.status not in (Status.PAID, Status.PARTIALLY_FULFILLED):
        raise OrderError(
            f"Order {locked.number} is {Status(locked.status).label.lower()}; only paid "
            "orders ship."
        )
    lines = {line.pk: line for line in locked.lines.select_for_update().order_by("pk")}
    for line_id, quantity in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            raise OrderError("That line is not on this order.")
        open_units = line.quantity - line.quantity_fulfilled - line.quantity_refunded
        if quantity < 1 or quantity > open_units:
            raise OrderError(f"{line.sku}: {max(open_units, 0)} left to ship, not {quantity}.")
        line.quantity_fulfilled += quantity
        line.save(update_fields=["quantity_fulfilled"])
    done = all(
        line.quantity_fulfilled + line.quantity_refunded >= line.quantity for line in lines.values()
    )
    locked.fulfillment_status = (
        Order.FulfillmentStatus.FULFILLED if done else Order.FulfillmentStatus.PARTIAL
    )
    locked.save(update_fields=["fulfillment_status"])
    order.fulfillment_status = locked.fulfillment_status
    target = Status.FULFILLED if done else Status.PARTIALLY_FULFILLED
    units = sum(quantities.values())
    event_add(
        order=locked,
        kind=OrderEvent.Kind.FULFILLMENT,
        message=message or f"{units} units shipped.",
        actor=actor,
    )
    if target != locked.status:
        order_transition(order=order, to=target, actor=actor)
    return order


@transaction.atomic
def order_fulfillment_undo(
    *, order: Order, quantities: dict[int, int], actor=None, message: str = ""
) -> Order:
    """Take back shipped units ({order line id: quantity}) that came back undelivered (a
    parcel returned to sender): the lines count them as not shipped again and the order's
    fulfillment status (and a fulfilled or partially fulfilled status) follows. Putting
    the stock back is the caller's, in the same transaction. Refuses more than a line
    has shipped, changing nothing."""
    locked = _locked(order)
    lines = {line.pk: line for line in locked.lines.select_for_update().order_by("pk")}
    chosen = {int(line_id): int(qty) for line_id, qty in quantities.items()}
    for line_id, quantity in chosen.items():
        line = lines.get(line_id)
        if line is None:
            raise OrderError("That line is not on this order.")
        if quantity < 1 or quantity > line.quantity_fulfilled:
            raise OrderError(
                f"{line.sku}: {line.quantity_fulfilled} shipped, cannot take back {quantity}."
            )
    for line_id, quantity in chosen.items():
        line = lines[line_id]
        line.quantity_fulfilled -= quantity
        line.save(update_fields=["quantity_fulfilled"])
    shipped = any(line.quantity_fulfilled for line in lines.values())
    done = all(
        line.quantity_fulfilled + line.quantity_refunded >= line.quantity for line in lines.values()
    )
    if done:
        fulfillment = Order.FulfillmentStatus.FULFILLED
    elif shipped:
        fulfillment = Order.FulfillmentStatus.PARTIAL
    else:
        fulfillment = Order.FulfillmentStatus.UNFULFILLED
    locked.fulfillment_status = fulfillment
    locked.save(update_fields=["fulfillment_status"])
    units = sum(chosen.values())
    event_add(
        order=locked,
        kind=OrderEvent.Kind.FULFILLMENT,
        message=message or f"{units} shipped units came back undelivered.",
        actor=actor,
    )
    # Not a move staff may make (the transition table has none back from fulfilled): the
    # order only says again what is true of its units, and the timeline records it.
    current = locked.status
    if current in (Status.FULFILLED, Status.PARTIALLY_FULFILLED) and not done:
        target = Status.PARTIALLY_FULFILLED if shipped else Status.PAID
        if target != current:
            locked.status = target
            locked.updated_at = timezone.now()
            locked.save(update_fields=["status", "updated_at"])
            event_add(
                order=locked,
                kind=OrderEvent.Kind.STATUS,
                message=f"{Status(current).label} → {Status(target).label}: units came back "
                "undelivered.",
                actor=actor,
                from_status=current,
                to_status=target,
            )
    order.__dict__.update(locked.__dict__)
    return order
