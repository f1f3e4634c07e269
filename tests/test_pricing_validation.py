"""Rating: what a charge accepts; floats and strings coerced, invalid charges refused clearly."""

from decimal import Decimal

import pytest

from usage_billing_connector.core import pricing
from usage_billing_connector.core.pricing import Charge, PricingError, Tier, TierLine, rate

D = Decimal


# --- coercion and validation ----------------------------------------------------------


def test_floats_and_strings_are_coerced_through_their_decimal_text():
    charge = Charge("per_unit", unit_price=0.1, included_quantity="2")
    assert charge.unit_price == D("0.1")
    assert rate(charge, 3.3).amount == D("0.13")
    assert Tier(100, "0.25").up_to == D(100)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pricing_model": "flat"}, "unknown pricing model 'flat'"),
        ({"pricing_model": "graduated"}, "needs at least one tier"),
        ({"pricing_model": "volume", "tiers": (Tier(10, 1),)}, "last tier must be unlimited"),
        (
            {"pricing_model": "graduated", "tiers": (Tier(None, 1), Tier(10, 1))},
            "only the last tier may be unlimited",
        ),
        (
            {"pricing_model": "graduated", "tiers": (Tier(10, 1), Tier(10, 2), Tier(None, 1))},
            "strictly ascending",
        ),
        (
            {"pricing_model": "volume", "tiers": (Tier(10, 1), Tier(5, 2), Tier(None, 1))},
            "strictly ascending",
        ),
        ({"pricing_model": "per_unit", "tiers": (Tier(None, 1),)}, "takes no tiers"),
        ({"pricing_model": "per_unit", "unit_price": D(-1)}, "unit_price must not be negative"),
        ({"pricing_model": "package", "package_size": 0}, "package_size must be greater than 0"),
        ({"pricing_model": "package", "package_size": D(-2)}, "package_size"),
        ({"pricing_model": "package", "package_price": D(-1)}, "package_price"),
        ({"pricing_model": "per_unit", "included_quantity": D(-1)}, "included_quantity"),
        ({"pricing_model": "per_unit", "minimum_amount": D(-1)}, "minimum_amount"),
        ({"pricing_model": "per_unit", "unit_price": "abc"}, "not a number"),
        ({"pricing_model": "per_unit", "unit_price": D("NaN")}, "finite"),
        ({"pricing_model": "per_unit", "unit_price": True}, "must be a number"),
        ({"pricing_model": "graduated", "tiers": ("10:1",)}, "Tier instances"),
    ],
)
def test_invalid_charges_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(PricingError, match=message):
        Charge(**kwargs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((D(0), D(1)), "up_to must be greater than 0"),
        ((D(-5), D(1)), "up_to must be greater than 0"),
        ((D(5), D("-0.01")), "unit_price must not be negative"),
        ((D(5), D(1), D(-1)), "flat_fee must not be negative"),
        ((None, D("Infinity")), "finite"),
    ],
)
def test_invalid_tiers_are_refused(args, message):
    with pytest.raises(PricingError, match=message):
        Tier(*args)


def test_pricing_error_is_a_value_error():
    assert issubclass(PricingError, ValueError)


def test_rate_refuses_negative_quantity_and_non_charges():
    with pytest.raises(PricingError, match="quantity must not be negative"):
        rate(Charge("per_unit"), D(-1))
    with pytest.raises(PricingError, match="must be a Charge"):
        rate({"pricing_model": "per_unit"}, D(1))


def test_charge_is_immutable_and_stores_tiers_as_tuple():
    charge = Charge("volume", tiers=[Tier(None, D(1))])
    assert isinstance(charge.tiers, tuple)
    with pytest.raises(AttributeError):
        charge.unit_price = D(2)


def test_validate_charge_rechecks_an_existing_charge():
    charge = Charge("per_unit")
    object.__setattr__(charge, "pricing_model", "bogus")
    with pytest.raises(PricingError):
        pricing.validate_charge(charge)


def test_descriptions_keep_sub_cent_prices_and_thousands_separators():
    line = TierLine(D(0), None, D("1234567.5"), D("0.00125"), D("1543.209375"))
    assert line.describe() == "1,234,567.5 × 0.00125 = 1,543.21"
    assert line.describe(decimals=3) == "1,234,567.5 × 0.00125 = 1,543.209"
    assert TierLine(D(0), None, D(2), D(4), D(8)).describe(decimals=0) == "2 × 4 = 8"


def test_a_package_breakdown_starts_at_zero_and_is_unbounded():
    (line,) = rate(Charge("package", package_size=D(10), package_price=D(5)), D(25)).breakdown
    assert (line.from_qty, line.to_qty, line.quantity, line.amount) == (0, None, D(25), D(15))
    assert line.describe() == "25 in packages of 10: 3 × 5.00 = 15.00"


def test_a_volume_breakdown_names_the_tier_reached_and_its_flat_fee():
    tiers = (Tier(D(100), D(2), D(10)), Tier(None, D(1), D(5)))
    (first,) = rate(Charge("volume", tiers=tiers), D(50)).breakdown
    assert (first.from_qty, first.to_qty, first.flat_fee) == (0, D(100), D(10))
    assert first.describe() == "0 – 100: 50 × 2.00 + 10.00 = 110.00"
    (second,) = rate(Charge("volume", tiers=tiers), D(150)).breakdown
    assert (second.from_qty, second.to_qty, second.flat_fee) == (D(100), None, D(5))
    assert second.describe() == "100 – ∞: 150 × 1.00 + 5.00 = 155.00"


def test_volume_tier_names_the_quantity_no_tier_covers():
    # Validation refuses such tiers; called on its own, the lookup still says why.
    with pytest.raises(PricingError, match="no tier covers 11"):
        pricing.volume_tier((Tier(10, 1),), D(11))
