from decimal import Decimal

import pytest

from usage_billing_connector.core.numbers import (
    NumberError,
    to_decimal,
    to_non_negative,
    to_optional_decimal,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1, Decimal("0.1")), (3, Decimal(3)), (" 2.50 ", Decimal("2.50")), (Decimal("-1"), -1)],
)
def test_numbers_are_exact_whatever_hands_them_over(value, expected):
    result = to_decimal(value)
    assert result == expected and isinstance(result, Decimal)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "must be a number"),
        (None, "must be a number"),
        ("abc", "is not a number"),
        (float("inf"), "must be finite"),
        (Decimal("NaN"), "must be finite"),
        ([1], "must be a number"),
    ],
)
def test_what_is_not_a_finite_number_is_refused_naming_the_field(value, message):
    with pytest.raises(NumberError, match=f"price {message}"):
        to_decimal(value, "price")


def test_the_caller_chooses_the_error_class():
    class PriceError(NumberError):
        pass

    with pytest.raises(PriceError):
        to_decimal("x", "price", PriceError)
    with pytest.raises(PriceError, match="price must not be negative, got -1"):
        to_non_negative(-1, "price", PriceError)


def test_optional_and_non_negative_variants():
    assert to_optional_decimal(None) is None
    assert to_optional_decimal("1.5") == Decimal("1.5")
    assert to_non_negative(0) == 0
    with pytest.raises(NumberError):
        to_non_negative(Decimal("-0.01"))
