"""The exact text of each pricing refusal: what a billing administrator reads.

A charge that cannot be rated is refused when its plan is saved, and the message is
shown in the plan form (``Charge for <metric>: <message>``); ``test_pricing_validation``
checks that each case is refused, these tests pin what it says.
"""

from decimal import Decimal as D

import pytest

from usage_billing_connector.core.pricing import (
    Charge,
    PricingError,
    Tier,
    prorate,
    rate,
    round_amount,
)

LADDER = (Tier(5, 1), Tier(10, 1), Tier(10, 2), Tier(None, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"pricing_model": "flat"},
            "unknown pricing model 'flat'; expected one of per_unit, graduated, volume, package",
        ),
        ({"pricing_model": "graduated"}, "tiered pricing needs at least one tier"),
        (
            {"pricing_model": "volume", "tiers": (Tier(10, 1),)},
            "the last tier must be unlimited (up_to None), not up to 10",
        ),
        (
            {"pricing_model": "graduated", "tiers": (Tier(None, 1), Tier(10, 1))},
            "only the last tier may be unlimited (tier 1 is)",
        ),
        (
            {"pricing_model": "graduated", "tiers": LADDER},
            "tier up_to values must be strictly ascending: tier 3 up to 10 follows 10",
        ),
        (
            {"pricing_model": "per_unit", "tiers": (Tier(None, 1),)},
            "per_unit pricing takes no tiers",
        ),
        (
            {"pricing_model": "package", "package_size": 0},
            "package_size must be greater than 0, got 0",
        ),
        (
            {"pricing_model": "per_unit", "unit_price": D(-1)},
            "unit_price must not be negative, got -1",
        ),
        (
            {"pricing_model": "graduated", "tiers": ("10:1",)},
            "tiers must be Tier instances, got str",
        ),
        (
            {"pricing_model": "per_unit", "minimum_amount": "x"},
            "minimum_amount is not a number: 'x'",
        ),
        ({"pricing_model": "package", "package_size": "x"}, "package_size is not a number: 'x'"),
    ],
)
def test_a_refused_charge_says_what_to_fix(kwargs, message):
    with pytest.raises(PricingError) as err:
        Charge(**kwargs)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((D(0), 1), "tier up_to must be greater than 0, got 0"),
        (("x", 1), "tier up_to is not a number: 'x'"),
        ((None, D(-1)), "tier unit_price must not be negative, got -1"),
        ((None, 1, -1), "tier flat_fee must not be negative, got -1"),
    ],
)
def test_a_refused_tier_says_what_to_fix(args, message):
    with pytest.raises(PricingError) as err:
        Tier(*args)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rate({}, 1), "charge must be a Charge, got dict"),
        (lambda: rate(Charge("per_unit"), -1), "quantity must not be negative, got -1"),
        (lambda: round_amount(1, -1), "decimals must be a non-negative int, got -1"),
        (lambda: round_amount(1, True), "decimals must be a non-negative int, got True"),
        (lambda: round_amount(1, 2.0), "decimals must be a non-negative int, got 2.0"),
        (lambda: round_amount("x", 2), "amount is not a number: 'x'"),
        (lambda: prorate(1, 1.0, 2), "used_seconds must be an int, got 1.0"),
        (lambda: prorate(1, True, 2), "used_seconds must be an int, got True"),
        (lambda: prorate(1, 1, 2.0), "period_seconds must be an int, got 2.0"),
        (lambda: prorate(1, 0, 0), "period_seconds must be greater than 0, got 0"),
        (lambda: prorate(1, 3, 2), "used_seconds must be between 0 and period_seconds (2), got 3"),
        (
            lambda: prorate(1, -1, 2),
            "used_seconds must be between 0 and period_seconds (2), got -1",
        ),
        (lambda: prorate("x", 1, 2), "amount is not a number: 'x'"),
    ],
)
def test_a_refused_rating_argument_is_named(call, message):
    with pytest.raises(PricingError) as err:
        call()
    assert str(err.value) == message


def test_proration_accepts_its_bounds():
    assert prorate(D(30), 0, 30) == 0
    assert prorate(D(30), 30, 30) == 30
    assert prorate(D(30), 1, 1) == 30  # a one-second period is a period
    assert round_amount(D("2.5"), 0) == 3
