"""Every change of stock: `<entity>_<verb>(*, ...)`, each in its own transaction.

Lock order, everywhere: the stock rows of the variants concerned, in primary-key order,
before anything is read. Every hold, allocation and movement of a variant therefore
happens one at a time, and nothing is read, checked and then written by a racing caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.models import Allocation, Reservation, StockLevel, StockMovement, Warehouse
from inventory.selectors import availability

Reason = StockMovement.Reason


class InventoryError(Exception):
    """A stock change that cannot be made as asked; the message says why."""


class InsufficientStock(InventoryError):
    """Not enough available; `short` maps variant id to (wanted, available)."""

    def __init__(self, short: dict[int, tuple[int, int]]) -> None:
        self.short = short
        parts = [f"{wanted} wanted, {available} available" for wanted, available in short.values()]
        super().__init__("Not enough in stock: " + "; ".join(parts) + ".")


def lock_stock(variant_ids: Iterable[int]) -> list[StockLevel]:
    """For other modules' transactions that will change several variants: take every stock
    row first, in primary-key order, so they cannot deadlock with an allocation."""
    return _lock(variant_ids)


def _lock(variant_ids: Iterable[int], *, active_only: bool = True) -> list[StockLevel]:
    """Lock the stock rows of these variants (of active warehouses unless `active_only` is
    off: what was allocated in a warehouse closed since must still ship or come back)."""
    rows = StockLevel.objects.filter(variant_id__in=set(variant_ids))
    if active_only:
        rows = rows.filter(warehouse__is_active=True)
    if connection.features.has_select_for_update_of:
        rows = rows.select_for_update(of=("self",))  # not the warehouse rows joined in
    else:
        rows = rows.select_for_update()
    return list(rows.select_related("warehouse").order_by("pk"))


def _held(variant_ids: Iterable[int], *, now, except_cart: str | None = None) -> dict[int, int]:
    reservations = Reservation.objects.filter(variant_id__in=set(variant_ids), expires_at__gt=now)
    if except_cart:
        reservations = reservations.exclude(cart_key=except_cart)
    totals = reservations.values("variant_id").annotate(total=Sum("quantity"))
    return {row["variant_id"]: row["total"] for row in totals}


def _free(levels: list[StockLevel], held: dict[int, int]) -> dict[int, int]:
    free: dict[int, int] = defaultdict(int)
    for level in levels:
        free[level.variant_id] += level.on_hand - level.allocated
    return {variant_id: total - held.get(variant_id, 0) for variant_id, total in free.items()}


def _changed(variant_ids: Iterable[int]) -> None:
    """After the transaction commits: re-check low-stock alerts for these variants, and tell
    other sales channels their availability."""
    ids = sorted(set(variant_ids))

    def check() -> None:
        # Imported here: the task module imports this one.
        from inventory.tasks import (
            availability_push_task,
            stock_alerts_check_task,
            webhooks_queue_task,
        )

        availability_push_task.delay(ids)  # the catalog's "in stock" flags
        stock_alerts_check_task.delay(ids)
        webhooks_queue_task.delay(ids)  # other sales channels hear of the new availability

    transaction.on_commit(check)


def _move(
    level: StockLevel, delta: int, reason: str, *, actor=None, reference="", note=""
) -> StockMovement:
    """Change on hand of a locked row and write its ledger row."""
    level.on_hand += delta
    if level.on_hand < level.allocated:
        raise InventoryError(
            f"{level.warehouse.code} would hold {level.on_hand}, fewer than the "
            f"{level.allocated} allocated to orders."
        )
    # Both counters in one write: shipping lowers them together, and the database checks
    # allocated <= on_hand on every row it stores.
    level.save(update_fields=["on_hand", "allocated"])
    return StockMovement.objects.create(
        stock=level,
        delta=delta,
        reason=reason,
        reference=reference,
        note=note,
        quantity_after=level.on_hand,
        actor=actor,
    )


# --- Carts -----------------------------------------------------------------------------------
#
# A hold changes availability like an order does, but carts change by the click: so the
# in-stock flag, alerts and channel webhooks are only told when a hold makes a variant's
# availability cross zero (in stock <-> sold out), not on every hold.


def _crossed(before: dict[int, int], after: dict[int, int]) -> None:
    crossed = [pk for pk in before if (before[pk] > 0) != (after.get(pk, 0) > 0)]
    if crossed:
        _changed(crossed)


@transaction.atomic
def stock_reserve(
    *, variant_id: int, quantity: int, cart_key: str, ttl: timedelta | None = None
) -> Reservation | None:
    """Hold `quantity` of a variant for a cart (replacing the cart's earlier hold) until it
    expires. Raises InsufficientStock; None when the quantity is 0 (the hold is dropped)."""
    if quantity < 0:
        raise InventoryError("A quantity cannot be negative.")
    now = timezone.now()
    levels = _lock([variant_id])
    free = _free(levels, _held([variant_id], now=now, except_cart=cart_key)).get(variant_id, 0)
    own = Reservation.objects.filter(
        cart_key=cart_key, variant_id=variant_id, expires_at__gt=now
    ).values_list("quantity", flat=True)
    before = {variant_id: free - (own.first() or 0)}
    if quantity == 0:
        Reservation.objects.filter(cart_key=cart_key, variant_id=variant_id).delete()
        _crossed(before, {variant_id: free})
        return None
    if quantity > free:
        raise InsufficientStock({variant_id: (quantity, max(free, 0))})
    expires = now + (ttl or timedelta(minutes=settings.CART_RESERVATION_MINUTES))
    reservation, _ = Reservation.objects.update_or_create(
        cart_key=cart_key,
        variant_id=variant_id,
        defaults={"quantity": quantity, "expires_at": expires, "created_at": now},
    )
    _crossed(before, {variant_id: free - quantity})
    return reservation


@transaction.atomic
def stock_release(*, cart_key: str, variant_id: int | None = None) -> int:
    """Drop the cart's holds (of one variant, or all); returns how many. Locks the stock
    rows of the variants concerned first, to know whether availability crossed zero."""
    holds = Reservation.objects.filter(cart_key=cart_key)
    if variant_id is not None:
        holds = holds.filter(variant_id=variant_id)
    variant_ids = sorted(set(holds.values_list("variant_id", flat=True)))
    if not variant_ids:
        return 0
    now = timezone.now()
    before = _free(_lock(variant_ids), _held(variant_ids, now=now))
    holds = holds.filter(variant_id__in=variant_ids)
    freed = dict(holds.filter(expires_at__gt=now).values_list("variant_id", "quantity"))
    released = holds.delete()[0]
    _crossed(before, {pk: free + freed.get(pk, 0) for pk, free in before.items()})
    return released


@transaction.atomic
def reservations_release_expired() -> int:
    """Drop every expired hold; set-based, and safe to run twice.

    An expired hold stopped counting when it expired; the sweep tells the catalog and the
    channels about variants whose availability came back above zero that way.
    """
    now = timezone.now()
    expired = Reservation.objects.filter(expires_at__lte=now)
    lapsed = dict(
        expired.order_by()
        .values("variant_id")
        .annotate(total=Sum("quantity"))
        .values_list("variant_id", "total")
    )
    released = expired.delete()[0]
    if lapsed:
        after = availability(variant_ids=lapsed)  # never below 0: 0 means still sold out
        _crossed({pk: after[pk] - total for pk, total in lapsed.items()}, after)
    return released


# --- Orders ----------------------------------------------------------------------------------


@transaction.atomic
def stock_allocate(
    *, reference: str, lines: dict[int, int], cart_key: str | None = None
) -> list[Allocation]:
    """Promise stock to an order: {variant id: quantity}. The cart's own holds count as its
    to take (and are dropped). Raises InsufficientStock naming every short line, having
    changed nothing.

    Warehouses: the first by priority that can fill a line alone; otherwise the line is
    split across them in priority order.
    """
    now = timezone.now()
    levels = _lock(lines)
    free = _free(levels, _held(lines, now=now, except_cart=cart_key))
    short = {
        variant_id: (wanted, max(free.get(variant_id, 0), 0))
        for variant_id, wanted in lines.items()
        if wanted > free.get(variant_id, 0)
    }
    if short:
        raise InsufficientStock(short)
    made = []
    for variant_id, wanted in lines.items():
        rows = sorted(
            (level for level in levels if level.variant_id == variant_id),
            key=lambda level: (level.warehouse.priority, level.pk),
        )
        whole = next((level for level in rows if level.on_hand - level.allocated >= wanted), None)
        for level in [whole] if whole else rows:
            take = min(wanted, level.on_hand - level.allocated)
            if take <= 0:
                continue
            level.allocated += take
            level.save(update_fields=["allocated"])
            allocation, created = Allocation.objects.get_or_create(
                reference=reference, stock=level, defaults={"quantity": take}
            )
            if not created:
                allocation.quantity += take
                allocation.save(update_fields=["quantity"])
            made.append(allocation)
            wanted -= take
            if wanted == 0:
                break
    if cart_key:
        Reservation.objects.filter(cart_key=cart_key, variant_id__in=list(lines)).delete()
    _changed(lines)
    return made


def _allocations(reference: str) -> tuple[list[Allocation], dict[int, StockLevel]]:
    stock_ids = Allocation.objects.filter(reference=reference).values_list("stock_id", flat=True)
    variant_ids = StockLevel.objects.filter(pk__in=stock_ids).values_list("variant_id", flat=True)
    locked = {level.pk: level for level in _lock(variant_ids, active_only=False)}
    allocations = list(Allocation.objects.filter(reference=reference).order_by("pk"))
    return allocations, locked


@transaction.atomic
def stock_deallocate(*, reference: str, quantities: dict[int, int] | None = None) -> int:
    """Give back what is allocated to `reference`: all of it (a cancelled order), or
    {variant id: quantity} (a refunded line that will not ship). Returns units released."""
    allocations, locked = _allocations(reference)
    wanted = dict(quantities) if quantities is not None else None
    units = 0
    for allocation in allocations:
        level = locked[allocation.stock_id]
        take = allocation.quantity
        if wanted is not None:
            take = min(take, wanted.get(level.variant_id, 0))
            wanted[level.variant_id] = wanted.get(level.variant_id, 0) - take
        if take == 0:
            continue
        level.allocated -= take
        level.save(update_fields=["allocated"])
        units += take
        if take == allocation.quantity:
            allocation.delete()
        else:
            allocation.quantity -= take
            allocation.save(update_fields=["quantity"])
    _changed(level.variant_id for level in locked.values())
    return units


@transaction.atomic
def stock_ship(
    *,
    reference: str,
    quantities: dict[int, int] | None = None,
    actor=None,
    warehouse: Warehouse | None = None,
) -> list[StockMovement]:
    """Ship what was allocated to `reference`: all of it, or {variant id: quantity} for a
    partial shipment; only from `warehouse` when given (a parcel leaves one building).
    Allocated and on hand go down together; the ledger says "sale"."""
    allocations, locked = _allocations(reference)
    wanted = dict(quantities) if quantities is not None else None
    moves = []
    for allocation in allocations:
        level = locked[allocation.stock_id]
        if warehouse is not None and level.warehouse_id != warehouse.pk:
            continue
        take = allocation.quantity
        if wanted is not None:
            take = min(take, wanted.get(level.variant_id, 0))
            wanted[level.variant_id] = wanted.get(level.variant_id, 0) - take
        if take == 0:
            continue
        level.allocated -= take
        moves.append(_move(level, -take, Reason.SALE, actor=actor, reference=reference))
        if take == allocation.quantity:
            allocation.delete()
        else:
            allocation.quantity -= take
            allocation.save(update_fields=["quantity"])
    if wanted and any(left > 0 for left in wanted.values()):
        raise InventoryError("Cannot ship more than was allocated to this order.")
    _changed(level.variant_id for level in locked.values())
    return moves


# --- Warehouse work --------------------------------------------------------------------------

NEEDS_NOTE = {Reason.ADJUSTMENT, Reason.DAMAGE}
BY_HAND = {Reason.ADJUSTMENT, Reason.DAMAGE, Reason.RECEIPT, Reason.RETURN, Reason.COUNT}


def _level_for(variant_id: int, warehouse: Warehouse) -> StockLevel:
    StockLevel.objects.get_or_create(variant_id=variant_id, warehouse=warehouse)
    return next(level for level in _lock([variant_id]) if level.warehouse_id == warehouse.pk)


@transaction.atomic
def stock_adjust(
    *,
    variant_id: int,
    warehouse: Warehouse,
    delta: int,
    reason: str,
    note: str = "",
    reference: str = "",
    actor=None,
) -> StockMovement:
    """Change on hand by `delta` for a reason; an adjustment or damage also needs a note."""
    if reason not in BY_HAND:
        raise InventoryError(f"{reason!r} is not a reason for changing stock by hand.")
    if delta == 0:
        raise InventoryError("The change must not be zero.")
    if reason in NEEDS_NOTE and not note.strip():
        raise InventoryError("Say why: an adjustment needs a note.")
    if not warehouse.is_active:
        raise InventoryError(f"{warehouse.code} is not active.")
    level = _level_for(variant_id, warehouse)
    if level.on_hand + delta < 0:
        raise InventoryError(f"{warehouse.code} holds {level.on_hand}; it cannot lose {-delta}.")
    _changed([variant_id])
    return _move(level, delta, reason, actor=actor, reference=reference, note=note.strip())


@transaction.atomic
def stock_transfer(
    *,
    variant_id: int,
    source: Warehouse,
    target: Warehouse,
    quantity: int,
    note: str = "",
    actor=None,
) -> tuple[StockMovement, StockMovement]:
    """Move units between warehouses: both ledger rows in one transaction, or neither."""
    if quantity <= 0:
        raise InventoryError("Transfer at least one unit.")
    if source.pk == target.pk:
        raise InventoryError("Choose two different warehouses.")
    StockLevel.objects.get_or_create(variant_id=variant_id, warehouse=target)
    levels = {level.warehouse_id: level for level in _lock([variant_id])}
    if source.pk not in levels or target.pk not in levels:
        raise InventoryError("Both warehouses must be active and hold this product.")
    out_of = levels[source.pk]
    if out_of.on_hand - out_of.allocated < quantity:
        raise InventoryError(
            f"{source.code} has {out_of.on_hand - out_of.allocated} not promised to orders."
        )
    reference = f"transfer:{source.code}>{target.code}"
    leaving = _move(
        out_of, -quantity, Reason.TRANSFER_OUT, actor=actor, reference=reference, note=note
    )
    arriving = _move(
        levels[target.pk], quantity, Reason.TRANSFER_IN, actor=actor, reference=reference, note=note
    )
    _changed([variant_id])
    return leaving, arriving


@transaction.atomic
def availability_push(*, variant_ids: Iterable[int] | None = None) -> int:
    """Tell the catalog which of these variants (all, when None) are in stock now.

    Availability is read under the catalog's availability lock (the products' rows), so
    pushes take turns: one that read before a stock change cannot write after the push
    that change enqueued (which runs after the change commits, and so reads it).
    """
    from catalog.models import Variant
    from catalog.services import availability_lock, availability_set

    ids = None if variant_ids is None else sorted(set(variant_ids))
    availability_lock(variant_ids=ids)
    variants = Variant.objects.all() if ids is None else Variant.objects.filter(pk__in=ids)
    tracked = dict(variants.values_list("pk", "track_inventory"))
    free = availability(variant_ids=[pk for pk, track in tracked.items() if track])
    return availability_set(
        in_stock={pk: (free.get(pk, 0) > 0) if track else True for pk, track in tracked.items()}
    )


@transaction.atomic
def stock_adjust_bulk(
    *, stock_ids: list[int], delta: int, reason: str, note: str = "", actor=None
) -> int:
    """The same change to many stock rows, all or none: the first row that cannot take it
    stops the whole change, named in the error."""
    levels = list(
        StockLevel.objects.filter(pk__in=stock_ids)
        .select_related("variant", "warehouse")
        .order_by("pk")
    )
    if not levels:
        raise InventoryError("Tick the rows to change.")
    _lock(level.variant_id for level in levels)  # every row first, in pk order: no deadlock
    for level in levels:
        try:
            stock_adjust(
                variant_id=level.variant_id,
                warehouse=level.warehouse,
                delta=delta,
                reason=reason,
                note=note,
                actor=actor,
            )
        except InventoryError as err:
            raise InventoryError(f"{level.variant.sku} at {level.warehouse.code}: {err}") from None
    return len(levels)


@transaction.atomic
def stock_count_set(
    *, variant_id: int, warehouse: Warehouse, counted: int, reference: str = "", actor=None
) -> StockMovement | None:
    """Set on hand to what was counted, reading on hand under the row lock, so a sale made
    meanwhile is not overwritten. None when the count matches the books."""
    if counted < 0:
        raise InventoryError("A count cannot be negative.")
    level = _level_for(variant_id, warehouse)
    if counted < level.allocated:
        raise InventoryError(
            f"{counted} counted is fewer than the {level.allocated} allocated to orders."
        )
    delta = counted - level.on_hand
    if delta == 0:
        return None
    _changed([variant_id])
    return _move(level, delta, Reason.COUNT, actor=actor, reference=reference)
