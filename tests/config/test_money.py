from decimal import Decimal

import pytest

from config.money import money_parse, money_round


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.675", "EUR", "2.68"),  # half up, where float rounding would give 2.67
        ("2.665", "EUR", "2.67"),
        ("-2.675", "EUR", "-2.68"),
        ("1999.5", "JPY", "2000"),
        (3, "EUR", "3.00"),
    ],
)
def test_money_round_half_up_to_the_minor_unit(amount, currency, expected):
    assert money_round(amount, currency) == Decimal(expected)
    assert str(money_round(amount, currency)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("19.90", "19.90"), (" 19,9 ", "19.90"), ("0", "0.00")]
)
def test_money_parse_accepts_what_people_type(raw, expected):
    assert money_parse(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["", "abc", "-1", "NaN", "Infinity", "1e400x"])
def test_money_parse_refuses_anything_else(raw):
    with pytest.raises(ValueError, match="is not an amount of money"):
        money_parse(raw)


def test_the_money_filter_puts_the_sign_before_the_symbol():
    from config.templatetags.money import money

    assert money(Decimal("-12"), "EUR") == "-€12.00"
    assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert money(Decimal("-3"), "CHF") == "-CHF 3.00"
