"""Money is a Decimal beside a 3-letter currency, never a float; rounding happens only here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Currencies without minor units; everything else rounds to cents.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def money_round(amount: Decimal | int | str, currency: str = "EUR") -> Decimal:
    """Round half up to the currency's minor unit (banks and tax offices round this way)."""
    quantum = Decimal(1) if currency.upper() in ZERO_DECIMAL_CURRENCIES else CENT
    return Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)


def money_parse(raw: str, currency: str = "EUR") -> Decimal:
    """A price someone typed ("19.90", "19,90", " 20 ") as a rounded Decimal.

    Raises ValueError with a readable message for anything else, including negatives.
    """
    text = raw.strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount of money.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{raw!r} is not an amount of money.")
    return money_round(amount, currency)
