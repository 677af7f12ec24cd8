from __future__ import annotations

from decimal import Decimal

from django import template

from config.money import money_round

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """19.9, "EUR" -> "€19.90"; an unknown currency shows its code: "CHF 19.90"."""
    if amount is None:
        return ""
    value = money_round(amount, currency)
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{value:,}" if symbol else f"{currency.upper()} {value:,}"
