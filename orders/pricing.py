"""What a cart costs: lines, voucher discount, shipping and tax. Pure reads, no writes.

The same function prices the cart page, the checkout review and the order placed, so the
shopper pays exactly what the review showed.

Tax: PRICES_INCLUDE_TAX (the setting) says whether catalog prices include tax (European
style) or exclude it (North American style). The rate is the destination's: a region's
rate wins over its country's. Shipping is taxed at the same rate as the goods. Tax is
rounded per line, through config.money, and the order's tax is the sum of its lines'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from config.money import money_round
from orders.models import ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherRedemption

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


class VoucherError(Exception):
    """A voucher that does not apply to this cart; the message tells the shopper why."""


@dataclass
class PricedLine:
    variant: object  # catalog.Variant, with its product loaded
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO
    tax_rate: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def total(self) -> Decimal:
        """What the line adds to the order: after discount, with tax when prices exclude it."""
        net = self.gross - self.discount
        return net if settings.PRICES_INCLUDE_TAX else net + self.tax


@dataclass
class Totals:
    currency: str
    lines: list[PricedLine]
    subtotal: Decimal = ZERO
    discount: Decimal = ZERO
    shipping: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    weight_grams: int = 0
    tax_rate: Decimal = ZERO
    prices_include_tax: bool = True
    # Why the cart's voucher gives nothing now (it is kept, and the reason shown).
    voucher_problem: str = ""
    free_shipping: bool = False
    notes: list[str] = field(default_factory=list)


def tax_rate_for(*, country: str, region: str = "") -> Decimal:
    """The percent rate for a destination: the region's, else the country's, else 0."""
    if not country:
        return ZERO
    rates = {
        (rate.region or "").lower(): rate.rate
        for rate in TaxRate.objects.filter(country=country.upper()).filter(
            Q(region="") | Q(region__iexact=region.strip())
        )
    }
    return rates.get(region.strip().lower(), rates.get("", ZERO))


def shipping_methods_for(*, country: str) -> list[ShippingMethod]:
    """Active methods of the zone that holds `country`, cheapest first."""
    if not country:
        return []
    methods = ShippingMethod.objects.filter(is_active=True).select_related("zone")
    methods = methods.prefetch_related("rates")
    return [method for method in methods if country.upper() in method.zone.countries]


def ship_countries() -> list[str]:
    """Countries the checkout offers: those of zones with at least one active method."""
    zones = ShippingZone.objects.filter(methods__is_active=True).order_by("pk")
    countries: list[str] = []
    for zone_countries in zones.values_list("countries", flat=True):
        countries += [code.upper() for code in zone_countries if code.upper() not in countries]
    return countries


def shipping_price(
    method: ShippingMethod, *, subtotal: Decimal, weight_grams: int
) -> tuple[Decimal, bool]:
    """(price, free): free above the method's threshold, else flat or by the rate table."""
    if method.free_above is not None and subtotal >= method.free_above:
        return ZERO, True
    price = method.price
    if method.pricing != ShippingMethod.Pricing.FLAT:
        measure = Decimal(weight_grams) if method.pricing == "weight" else subtotal
        for rate in method.rates.all():  # ascending thresholds
            if measure >= rate.threshold:
                price = rate.price
    return price, False


def _eligible(voucher: Voucher, lines: list[PricedLine]) -> list[PricedLine]:
    product_ids = {product.pk for product in voucher.products.all()}
    paths = [category.path for category in voucher.categories.all()]
    if not product_ids and not paths:
        return lines

    def matches(line: PricedLine) -> bool:
        product = line.variant.product
        if product.pk in product_ids:
            return True
        category = product.category
        return category is not None and any(category.path.startswith(path) for path in paths)

    return [line for line in lines if matches(line)]


def voucher_check(
    *, voucher: Voucher, lines: list[PricedLine], subtotal: Decimal, email: str = "", now=None
) -> list[PricedLine]:
    """Raise VoucherError saying why `voucher` does not apply; else the lines it discounts."""
    now = now or timezone.now()
    if not voucher.is_active:
        raise VoucherError(f"The code {voucher.code} is no longer valid.")
    if voucher.starts_at and now < voucher.starts_at:
        raise VoucherError(f"The code {voucher.code} is not valid yet.")
    if voucher.ends_at and now >= voucher.ends_at:
        raise VoucherError(f"The code {voucher.code} has expired.")
    if voucher.usage_limit is not None and voucher.times_used >= voucher.usage_limit:
        raise VoucherError(f"The code {voucher.code} has been used up.")
    if voucher.kind == Voucher.Kind.FIXED and voucher.currency != settings.STORE_CURRENCY:
        raise VoucherError(f"The code {voucher.code} is for another currency.")
    if voucher.min_subtotal is not None and subtotal < voucher.min_subtotal:
        raise VoucherError(
            f"The code {voucher.code} needs a subtotal of at least {voucher.min_subtotal} "
            f"{voucher.currency}; add {voucher.min_subtotal - subtotal} more."
        )
    if email and voucher.per_customer_limit is not None:
        used = VoucherRedemption.objects.filter(voucher=voucher, email__iexact=email).count()
        if used >= voucher.per_customer_limit:
            raise VoucherError(f"You have already used the code {voucher.code}.")
    eligible = _eligible(voucher, lines)
    if not eligible:
        raise VoucherError(f"The code {voucher.code} does not apply to anything in your cart.")
    return eligible


def _spread(amount: Decimal, lines: list[PricedLine], currency: str) -> None:
    """Share a discount over lines by their value; the last takes the rounding rest."""
    base = sum((line.gross for line in lines), ZERO)
    if base <= 0:
        return
    amount = min(amount, base)
    left = amount
    for index, line in enumerate(lines):
        share = (
            left if index == len(lines) - 1 else money_round(amount * line.gross / base, currency)
        )
        share = min(share, line.gross)
        line.discount += share
        left -= share


def _tax(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    if rate == 0:
        return ZERO
    if settings.PRICES_INCLUDE_TAX:
        return money_round(amount * rate / (HUNDRED + rate), currency)
    return money_round(amount * rate / HUNDRED, currency)


def price_lines(
    *,
    items: Iterable[tuple[object, int]],
    currency: str,
    address: dict | None = None,
    shipping_method: ShippingMethod | None = None,
    voucher: Voucher | None = None,
    email: str = "",
) -> Totals:
    """Price (variant, quantity) pairs for a destination, a shipping method and a voucher.

    A voucher that does not apply is not an error here: the totals carry the reason
    (`voucher_problem`) and no discount, so the cart page can say why.
    """
    address = address or {}
    lines = [
        PricedLine(variant=variant, quantity=quantity, unit_price=variant.price)
        for variant, quantity in items
    ]
    totals = Totals(currency=currency, lines=lines, prices_include_tax=settings.PRICES_INCLUDE_TAX)
    totals.subtotal = sum((line.gross for line in lines), ZERO)
    totals.weight_grams = sum(line.variant.weight_grams * line.quantity for line in lines)

    if voucher is not None and lines:
        try:
            eligible = voucher_check(
                voucher=voucher, lines=lines, subtotal=totals.subtotal, email=email
            )
        except VoucherError as err:
            totals.voucher_problem = str(err)
        else:
            if voucher.kind == Voucher.Kind.PERCENTAGE:
                for line in eligible:
                    line.discount = money_round(line.gross * voucher.value / HUNDRED, currency)
            elif voucher.kind == Voucher.Kind.FIXED:
                _spread(voucher.value, eligible, currency)
            else:
                totals.free_shipping = True
    totals.discount = sum((line.discount for line in lines), ZERO)

    rate = tax_rate_for(country=address.get("country", ""), region=address.get("region", ""))
    totals.tax_rate = rate
    for line in lines:
        line.tax_rate = rate
        line.tax = _tax(line.gross - line.discount, rate, currency)

    if shipping_method is not None and lines:
        price, free = shipping_price(
            shipping_method,
            subtotal=totals.subtotal - totals.discount,
            weight_grams=totals.weight_grams,
        )
        if totals.free_shipping:
            price = ZERO
        totals.free_shipping = totals.free_shipping or free
        totals.shipping = price
        totals.shipping_tax = _tax(price, rate, currency)

    totals.tax = sum((line.tax for line in lines), ZERO) + totals.shipping_tax
    totals.total = totals.subtotal - totals.discount + totals.shipping
    if not settings.PRICES_INCLUDE_TAX:
        totals.total += totals.tax
    return totals
