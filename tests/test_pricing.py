"""Rating: pricing models, allowance, minimum, rounding and proration of money."""

import dataclasses
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from usage_billing_connector.core import periods, pricing
from usage_billing_connector.core.pricing import (
    Charge,
    PricingError,
    Tier,
    TierLine,
    prorate,
    rate,
    round_amount,
)

D = Decimal


def growth_monthly():
    """The demo plan ``growth-monthly``, as the Odoo demo data configures it."""
    return {
        "api_calls": Charge(
            "graduated",
            tiers=(
                Tier(D(10_000), D("0.00")),
                Tier(D(100_000), D("0.002")),
                Tier(None, D("0.001")),
            ),
        ),
        "storage_gb": Charge(
            "volume",
            tiers=(
                Tier(D(100), D("0.25")),
                Tier(D(1_000), D("0.20")),
                Tier(None, D("0.15")),
            ),
            included_quantity=D(5),
        ),
        "active_users": Charge("per_unit", unit_price=D("4.00"), included_quantity=D(10)),
    }


def storage_without_allowance():
    return Charge("volume", tiers=growth_monthly()["storage_gb"].tiers)


# --- demo contract -----------------------------------------------------------------


def test_demo_contract_growth_monthly_invoice_totals_567():
    plan = growth_monthly()
    api = rate(plan["api_calls"], D(250_000))
    storage = rate(plan["storage_gb"], D(120))
    users = rate(plan["active_users"], D(14))
    april = periods.Period(
        datetime(2025, 4, 1, tzinfo=timezone.utc), datetime(2025, 5, 1, tzinfo=timezone.utc)
    )
    (fee,) = periods.proration_segments(april, [(april.start, 2, D("99.00"), True)])

    lines = [round_amount(r.amount, 2) for r in (api, storage, users)]
    lines.append(round_amount(fee.amount, 2))

    assert lines == [D("330.00"), D("23.00"), D("16.00"), D("198.00")]
    assert sum(lines) == D("567.00")
    assert (storage.included, storage.billable) == (D(5), D(115))
    assert storage.breakdown[0].unit_price == D("0.20")
    assert (users.included, users.billable) == (D(10), D(4))


def test_demo_api_calls_breakdown_and_description():
    rating = rate(growth_monthly()["api_calls"], D(250_000))
    assert [(line.quantity, line.amount) for line in rating.breakdown] == [
        (D(10_000), D(0)),
        (D(90_000), D(180)),
        (D(150_000), D(150)),
    ]
    assert rating.describe() == (
        "0 – 10,000: 10,000 × 0.00 = 0.00\n"
        "10,000 – 100,000: 90,000 × 0.002 = 180.00\n"
        "100,000 – ∞: 150,000 × 0.001 = 150.00"
    )


def test_demo_storage_description_shows_allowance_and_reached_tier():
    rating = rate(growth_monthly()["storage_gb"], D(120))
    assert rating.describe() == "Included: 5 of 120\n100 – 1,000: 115 × 0.20 = 23.00"


# --- per unit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        (D(0), D(0)),
        (D(1), D("0.25")),
        (D("0.000001"), D("0.00000025")),
        (D("10000.000001"), D("2500.00000025")),
    ],
)
def test_per_unit_multiplies_billable_by_price(quantity, amount):
    assert rate(Charge("per_unit", unit_price=D("0.25")), quantity).amount == amount


@pytest.mark.parametrize(
    ("quantity", "billable", "amount"),
    [
        (D(9), D(0), D(0)),
        (D(10), D(0), D(0)),
        (D(11), D(1), D(4)),
        (D("10.5"), D("0.5"), D(2)),
    ],
)
def test_per_unit_allowance_boundary(quantity, billable, amount):
    rating = rate(growth_monthly()["active_users"], quantity)
    assert (rating.billable, rating.amount) == (billable, amount)
    assert rating.included == min(quantity, D(10))


def test_zero_billable_has_no_breakdown_line():
    rating = rate(growth_monthly()["active_users"], D(3))
    assert rating.breakdown == ()
    assert rating.describe() == "Included: 3 of 3\nNo billable usage = 0.00"


# --- graduated ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        (D(0), D(0)),
        (D(10_000), D(0)),
        (D("10000.000001"), D("0.000000002")),
        (D(10_001), D("0.002")),
        (D(100_000), D(180)),
        (D("100000.000001"), D("180.000000001")),
        (D(100_001), D("180.001")),
    ],
)
def test_graduated_boundaries(quantity, amount):
    assert rate(growth_monthly()["api_calls"], quantity).amount == amount


def test_graduated_quantity_on_boundary_stays_in_lower_tier():
    rating = rate(growth_monthly()["api_calls"], D(100_000))
    assert [line.to_qty for line in rating.breakdown] == [D(10_000), D(100_000)]


def test_graduated_tiers_count_billable_units_after_allowance():
    tiers = (Tier(D(10), D(1)), Tier(None, D(2)))
    rating = rate(Charge("graduated", tiers=tiers, included_quantity=D(5)), D(20))
    # 15 billable: 10 in the first tier, 5 in the second (not 5 and 10).
    assert [line.quantity for line in rating.breakdown] == [D(10), D(5)]
    assert rating.amount == D(20)


def test_graduated_flat_fee_is_charged_once_per_tier_entered():
    tiers = (Tier(D(10), D(1), flat_fee=D(5)), Tier(None, D(2), flat_fee=D(7)))
    charge = Charge("graduated", tiers=tiers)
    assert rate(charge, D(0)).amount == D(0)
    assert rate(charge, D(10)).amount == D(15)
    assert rate(charge, D("10.5")).amount == D(5 + 10 + 7 + 1)
    assert rate(charge, D("10.5")).breakdown[1].describe() == "10 – ∞: 0.5 × 2.00 + 7.00 = 8.00"


# --- volume ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "unit_price"),
    [
        (D("0.5"), D("0.25")),
        (D(100), D("0.25")),
        (D("100.000001"), D("0.20")),
        (D(101), D("0.20")),
        (D(1_000), D("0.20")),
        (D("1000.000001"), D("0.15")),
        (D(1_001), D("0.15")),
    ],
)
def test_volume_boundaries(quantity, unit_price):
    rating = rate(storage_without_allowance(), quantity)
    assert rating.amount == quantity * unit_price
    assert [line.unit_price for line in rating.breakdown] == [unit_price]


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        (D(5), D(0)),
        (D(105), D("25.00")),
        (D("105.000001"), D("100.000001") * D("0.20")),
        (D(1_005), D("200.00")),
        (D(1_006), D("150.15")),
    ],
)
def test_volume_boundaries_count_billable_units(quantity, amount):
    assert rate(growth_monthly()["storage_gb"], quantity).amount == amount


def test_volume_zero_billable_costs_nothing_even_with_flat_fee():
    charge = Charge("volume", tiers=(Tier(None, D(1), flat_fee=D(10)),))
    assert rate(charge, D(0)).amount == D(0)
    assert rate(charge, D(2)).amount == D(12)


def test_volume_is_not_monotonic_when_a_later_tier_is_cheaper():
    """Documented behaviour of volume pricing, not a bug: crossing a boundary can lower the bill."""
    charge = Charge("volume", tiers=(Tier(D(100), D(1)), Tier(None, D("0.50"))))
    assert rate(charge, D(100)).amount == D(100)
    assert rate(charge, D(101)).amount == D("50.50")


# --- package --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        (D(0), D(0)),
        (D("0.000001"), D(10)),
        (D(100), D(10)),
        (D("100.000001"), D(20)),
        (D(101), D(20)),
        (D(200), D(20)),
        (D(201), D(30)),
    ],
)
def test_package_charges_every_started_package(quantity, amount):
    assert rate(Charge("package", package_size=100, package_price=D(10)), quantity).amount == amount


def test_package_with_fractional_size_is_exact():
    charge = Charge("package", package_size=D("0.1"), package_price=D(1))
    assert rate(charge, D("0.3")).amount == D(3)
    assert rate(charge, D("0.30000000000000000000000000001")).amount == D(4)


def test_package_description_shows_packages():
    rating = rate(Charge("package", package_size=50, package_price=D(10)), D(115))
    assert rating.breakdown[0].packages == 3
    assert rating.describe() == "115 in packages of 50: 3 × 10.00 = 30.00"


def test_package_allowance_is_taken_before_packaging():
    charge = Charge("package", package_size=100, package_price=D(10), included_quantity=D(50))
    assert rate(charge, D(150)).amount == D(10)
    assert rate(charge, D(151)).amount == D(20)


# --- minimum --------------------------------------------------------------------------


def test_minimum_applies_even_without_usage():
    charge = Charge("per_unit", unit_price=D(1), minimum_amount=D(50))
    rating = rate(charge, D(0))
    assert (rating.amount, rating.usage_amount, rating.minimum_applied) == (D(50), D(0), True)
    assert rating.describe().endswith("Minimum charge: 50.00 (usage 0.00)")


@pytest.mark.parametrize(
    ("quantity", "amount", "applied"),
    [(D(49), D(50), True), (D(50), D(50), False), (D(51), D(51), False)],
)
def test_minimum_lifts_only_smaller_amounts(quantity, amount, applied):
    rating = rate(Charge("per_unit", unit_price=D(1), minimum_amount=D(50)), quantity)
    assert (rating.amount, rating.minimum_applied) == (amount, applied)


def test_zero_minimum_is_never_applied():
    assert rate(Charge("per_unit"), D(0)).minimum_applied is False


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


# --- properties -----------------------------------------------------------------------

quantities = st.decimals(min_value=0, max_value=10**7, places=6, allow_nan=False)
prices = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False)
flat_fees = st.one_of(st.just(D(0)), prices)


@st.composite
def tier_ladders(draw, max_tiers=5):
    """Valid tier tuples: strictly ascending finite bounds, then an unlimited tier."""
    bounds = draw(
        st.lists(
            st.decimals(min_value=D("0.001"), max_value=10**6, places=3, allow_nan=False),
            max_size=max_tiers - 1,
            unique=True,
        )
    )
    bounds = [*sorted(bounds), None]
    return tuple(Tier(bound, draw(prices), draw(flat_fees)) for bound in bounds)


@st.composite
def charges(draw, models=pricing.PRICING_MODELS):
    model = draw(st.sampled_from(models))
    kwargs = {
        "included_quantity": draw(st.one_of(st.just(D(0)), quantities)),
        "minimum_amount": draw(st.one_of(st.just(D(0)), prices)),
    }
    if model in pricing.TIERED_MODELS:
        kwargs["tiers"] = draw(tier_ladders())
    elif model == "per_unit":
        kwargs["unit_price"] = draw(prices)
    else:
        kwargs["package_size"] = draw(
            st.decimals(min_value=D("0.01"), max_value=10**4, places=2, allow_nan=False)
        )
        kwargs["package_price"] = draw(prices)
    return Charge(model, **kwargs)


def graduated_oracle(tiers, billable):
    """Graduated price computed by cumulative totals at tier boundaries, not tier by tier."""
    total_before = D(0)
    lower = D(0)
    for tier in tiers:
        if tier.up_to is None or billable <= tier.up_to:
            return total_before + (billable - lower) * tier.unit_price + tier.flat_fee
        total_before += (tier.up_to - lower) * tier.unit_price + tier.flat_fee
        lower = tier.up_to
    raise AssertionError("validated tiers always end unlimited")


@given(tier_ladders(), quantities)
def test_graduated_equals_independent_sum_over_tiers(tiers, quantity):
    rating = rate(Charge("graduated", tiers=tiers), quantity)
    expected = graduated_oracle(tiers, quantity) if quantity else D(0)
    assert rating.amount == expected
    assert sum(line.quantity for line in rating.breakdown) == quantity
    for line in rating.breakdown:
        assert line.quantity > 0
        assert line.amount == line.quantity * line.unit_price + line.flat_fee


@given(tier_ladders(), quantities)
def test_volume_prices_all_units_at_exactly_one_tier(tiers, quantity):
    assume(quantity > 0)
    rating = rate(Charge("volume", tiers=tiers), quantity)
    reached = [
        tier
        for lower, tier in zip((D(0), *(t.up_to for t in tiers[:-1])), tiers, strict=True)
        if lower < quantity and (tier.up_to is None or quantity <= tier.up_to)
    ]
    assert len(reached) == 1
    (line,) = rating.breakdown
    assert line.quantity == quantity
    assert rating.amount == quantity * reached[0].unit_price + reached[0].flat_fee


@given(charges(), quantities)
def test_amounts_are_never_negative_and_respect_the_minimum(charge, quantity):
    rating = rate(charge, quantity)
    assert rating.amount >= 0
    assert rating.amount >= charge.minimum_amount
    assert rating.usage_amount == sum((line.amount for line in rating.breakdown), D(0))
    assert rating.amount == max(rating.usage_amount, charge.minimum_amount)
    assert rating.minimum_applied == (rating.usage_amount < charge.minimum_amount)
    assert rating.included + rating.billable == quantity
    assert rating.billable >= 0


@given(charges(models=("per_unit", "graduated", "package")), quantities, quantities)
def test_amount_is_monotonic_except_for_volume(charge, first, second):
    low, high = sorted((first, second))
    assert rate(charge, low).amount <= rate(charge, high).amount


@given(st.lists(st.tuples(prices, flat_fees), min_size=1, max_size=5), quantities, quantities)
def test_volume_is_monotonic_when_prices_do_not_decrease(price_pairs, first, second):
    unit_prices = sorted(p for p, _ in price_pairs)
    flat = sorted(f for _, f in price_pairs)
    bounds = [D(10) ** i for i in range(1, len(unit_prices))] + [None]
    tiers = tuple(Tier(b, p, f) for b, p, f in zip(bounds, unit_prices, flat, strict=True))
    charge = Charge("volume", tiers=tiers)
    low, high = sorted((first, second))
    assert rate(charge, low).amount <= rate(charge, high).amount


@given(charges(), quantities, quantities)
def test_allowance_equals_rating_the_excess_without_allowance(charge, allowance, extra):
    with_allowance = dataclasses.replace(charge, included_quantity=allowance)
    without = dataclasses.replace(charge, included_quantity=D(0))
    rated = rate(with_allowance, allowance + extra)
    reference = rate(without, extra)
    assert rated.amount == reference.amount
    assert rated.breakdown == reference.breakdown
    assert (rated.included, rated.billable) == (allowance, extra)


@given(charges(), quantities)
def test_quantity_within_allowance_costs_only_the_minimum(charge, quantity):
    assume(quantity <= charge.included_quantity)
    rating = rate(charge, quantity)
    assert rating.billable == 0
    assert rating.breakdown == ()
    assert rating.amount == charge.minimum_amount
