"""Rating: properties over generated charges (hypothesis), against independent oracles."""

import dataclasses
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from usage_billing_connector.core import pricing
from usage_billing_connector.core.pricing import Charge, Tier, rate

D = Decimal


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
