from __future__ import annotations

from decimal import Decimal

from django import template

from config.money import money_round

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """19.9, "EUR" -> "€19.90"; -12 -> "-€12.00"; an unknown currency: "CHF 19.90"."""
    if amount is None:
        return ""
    value = money_round(amount, currency)
    sign, value = ("-", -value) if value < 0 else ("", value)
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{value:,}" if symbol else f"{sign}{currency.upper()} {value:,}"
