"""Rating: pricing models (per unit, graduated, volume, package), allowance and minimum.

Rounding and proration are in test_pricing_rounding.py, validation of charges in
test_pricing_validation.py, properties over generated charges in
test_pricing_properties.py.
"""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from usage_billing_connector.core import periods
from usage_billing_connector.core.pricing import Charge, Tier, rate, round_amount

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


def test_usage_within_the_allowance_costs_a_decimal_zero():
    # Money stays Decimal even when nothing is billable (callers quantize it).
    rating = rate(Charge("per_unit", unit_price=D("0.01"), included_quantity=D(1000)), D(10))
    assert (rating.billable, rating.amount) == (0, 0)
    assert isinstance(rating.amount, Decimal)
