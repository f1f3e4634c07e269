"""Rating: rounding of money (half up, once) and proration by the second."""

from decimal import Decimal

import pytest

from usage_billing_connector.core.pricing import Charge, PricingError, prorate, rate, round_amount

D = Decimal


# --- rounding and proration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "decimals", "expected"),
    [
        (D("2.675"), 2, D("2.68")),
        (D("2.665"), 2, D("2.67")),
        (D("0.005"), 2, D("0.01")),
        (D("0.0049999"), 2, D("0.00")),
        (D("-2.675"), 2, D("-2.68")),
        (D("1234.5"), 0, D(1235)),
        (D("1.0005"), 3, D("1.001")),
        (D("330.000"), 2, D("330.00")),
        (D("1E+30"), 2, D("1000000000000000000000000000000.00")),
    ],
)
def test_round_amount_half_up(amount, decimals, expected):
    result = round_amount(amount, decimals)
    assert result == expected
    assert result.as_tuple().exponent == -decimals


@pytest.mark.parametrize("decimals", [-1, 1.5, True, "2"])
def test_round_amount_rejects_bad_decimals(decimals):
    with pytest.raises(PricingError):
        round_amount(D(1), decimals)


def test_rate_never_rounds_sub_cent_amounts():
    rating = rate(Charge("per_unit", unit_price=D("0.0001")), D(3))
    assert rating.amount == D("0.0003")
    assert round_amount(rating.amount, 2) == D(0)


@pytest.mark.parametrize(
    ("used", "period", "expected"),
    [
        (0, 2_592_000, D(0)),
        (1_296_000, 2_592_000, D("49.50")),
        (2_592_000, 2_592_000, D("99.00")),
        (1, 3, D(33)),
    ],
)
def test_prorate_by_the_second(used, period, expected):
    assert prorate(D("99.00"), used, period) == expected


def test_prorate_multiplies_before_dividing_so_even_shares_stay_exact():
    assert prorate(D("0.03"), 1, 3) == D("0.01")


def test_prorate_is_unrounded():
    assert prorate(D(1), 1, 3) == D(1) / D(3)


@pytest.mark.parametrize(("used", "period"), [(-1, 10), (11, 10), (0, 0), (1.0, 10), (1, None)])
def test_prorate_rejects_impossible_seconds(used, period):
    with pytest.raises(PricingError):
        prorate(D(1), used, period)
