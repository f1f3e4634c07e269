from datetime import datetime, timezone
from decimal import Decimal

import pytest

from usage_billing_connector.core import periods, pricing, statement_lines

D = Decimal
APRIL = periods.Period(
    datetime(2026, 4, 1, tzinfo=timezone.utc), datetime(2026, 5, 1, tzinfo=timezone.utc)
)
MAY = periods.Period(
    datetime(2026, 5, 1, tzinfo=timezone.utc), datetime(2026, 6, 1, tzinfo=timezone.utc)
)
MID_APRIL = datetime(2026, 4, 16, tzinfo=timezone.utc)


def change(when, seats, price, active=True):
    return periods.StateChange(when, seats, D(price), active)


def test_in_arrears_fee_is_split_by_the_second_and_each_part_rounded_once():
    lines = statement_lines.fee_lines(
        "Pro",
        "in_arrears",
        APRIL,
        MAY,
        [change(APRIL.start, 1, "100"), change(MID_APRIL, 2, "100")],
        2,
        D(0),
    )
    assert [line.amount for line in lines] == [D("50.00"), D("100.00")]
    assert "1 seat(s) × 100" in lines[0].description
    assert "2026-04-01 – 2026-04-15, 50.00% of 2026-04-01 – 2026-04-30" in lines[0].description


def test_inactive_stretches_are_not_billed():
    lines = statement_lines.fee_lines(
        "Pro",
        "in_arrears",
        APRIL,
        MAY,
        [change(APRIL.start, 1, "90"), change(MID_APRIL, 1, "90", active=False)],
        2,
        D(0),
    )
    assert [line.amount for line in lines] == [D("45.00")]


def test_in_advance_bills_next_period_and_adjusts_for_what_was_billed_ahead():
    history = [change(APRIL.start, 1, "100"), change(MID_APRIL, 3, "100")]
    lines = statement_lines.fee_lines("Pro", "in_advance", APRIL, MAY, history, 2, D("100"))
    adjustment, ahead = lines
    assert adjustment.kind == "fee_adjustment"
    assert adjustment.amount == D("100.00")  # owed 50 + 150, 100 billed ahead
    assert ahead.period == MAY and ahead.amount == D("300.00")


def test_late_usage_line_charges_the_difference_of_the_re_rated_period():
    charge = pricing.Charge(
        "graduated", tiers=(pricing.Tier(D(100), D(1)), pricing.Tier(None, D("0.5")))
    )
    line = statement_lines.late_usage_line("m", "Calls", charge, D(120), D("80.00"), 2, APRIL)
    assert line.amount == D("30.00")
    assert "owed 110.00, billed 80.00" in line.description


def test_a_correction_with_a_cheaper_plan_version_is_a_negative_difference_named_as_such():
    cheaper = pricing.Charge("per_unit", unit_price=D("0.5"))
    line = statement_lines.late_usage_line(
        "m", "Calls", cheaper, D(120), D("110.00"), 2, APRIL, plan="v2", what="correction"
    )
    assert line.amount == D("-50.00")  # owed 60.00 with version 2
    assert line.plan == "v2"
    assert line.description.startswith("Calls: correction for 2026-04-01 – 2026-04-30")


@pytest.mark.parametrize(
    ("billable", "unit_price", "amount", "expected"),
    [
        (D(40), D("0.5"), D("20.00"), (D(40), D("0.5"))),
        (D(240000), None, D("330.00"), (D(1), D("330.00"))),
        (D(3), D("0.125"), D("0.38"), (D(1), D("0.38"))),  # 0.125 has 3 decimals > 2
        (D("0.000001"), D(1), D("0.00"), (D(1), D("0.00"))),  # quantity below precision
    ],
)
def test_invoice_figures_reproduce_the_statement_amount(billable, unit_price, amount, expected):
    quantity, price = statement_lines.invoice_figures(amount, billable, unit_price, 2, 2, 2)
    assert (quantity, price) == expected
    assert pricing.round_amount(quantity * price, 2) == amount


@pytest.mark.parametrize(
    ("charged", "trued_up", "expected"),
    [
        (D("90.00"), D("40.00"), D("-30.00")),  # 60 + 30 late: the true-up shrinks to 10
        (D("110.00"), D("10.00"), D("-10.00")),  # beyond the commitment: no true-up left
        (D("60.00"), D("40.00"), None),  # nothing late changed the period's charge
    ],
)
def test_late_usage_fills_the_commitment_before_it_is_charged_on_top(charged, trued_up, expected):
    line = statement_lines.commitment_adjustment_line(D(100), charged, trued_up, APRIL)
    if expected is None:
        assert line is None
    else:
        assert line.kind == "commitment"
        assert line.amount == expected
        assert "after late usage" in line.description


def commitment(when, committed, in_force=True):
    return (when, D(committed), in_force)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([commitment(APRIL.start, "100")], D("100.00")),  # the whole period
        ([commitment(MID_APRIL, "100")], D("50.00")),  # started half way
        ([commitment(APRIL.start, "100"), commitment(MID_APRIL, "100", False)], D("50.00")),
        ([commitment(APRIL.start, "100"), commitment(MID_APRIL, "300")], D("200.00")),
        ([commitment(APRIL.start, "0"), commitment(MID_APRIL, "300")], D("150.00")),
        ([commitment(APRIL.start, "100", False)], D("0.00")),  # in trial all April
        ([commitment(APRIL.start, "100"), commitment(MAY.start, "900")], D("100.00")),
        ([], D(0)),
    ],
)
def test_a_commitment_is_prorated_by_the_second_like_the_fee(changes, expected):
    amount, _breakdown = statement_lines.period_commitment(APRIL, changes, 2)
    assert amount == expected


def test_a_prorated_commitment_says_how_it_adds_up_and_a_whole_one_does_not():
    changes = [commitment(APRIL.start, "100"), commitment(MID_APRIL, "300")]
    amount, breakdown = statement_lines.period_commitment(APRIL, changes, 2)
    assert breakdown.splitlines() == [
        "Committed 100 for 2026-04-01 – 2026-04-15, 50.00% of 2026-04-01 – 2026-04-30",
        "Committed 300 for 2026-04-16 – 2026-04-30, 50.00% of 2026-04-01 – 2026-04-30",
    ]
    line = statement_lines.commitment_line(amount, [], APRIL, breakdown, plan="large")
    assert (line.amount, line.breakdown, line.plan) == (D("200.00"), breakdown, "large")
    assert "committed 200.00, prorated" in line.description
    whole = statement_lines.period_commitment(APRIL, [commitment(APRIL.start, "100")], 2)
    assert whole == (D("100.00"), "")


def test_a_prorated_commitment_is_rounded_once():
    # Thirds of April: 3.33667 + 3.34 + 3.34667 = 10.02333 -> 10.02 (10.03 rounded thrice).
    thirds = [
        commitment(APRIL.start, "10.01"),
        commitment(datetime(2026, 4, 11, tzinfo=timezone.utc), "10.02"),
        commitment(datetime(2026, 4, 21, tzinfo=timezone.utc), "10.04"),
    ]
    assert statement_lines.period_commitment(APRIL, thirds, 2)[0] == D("10.02")


def test_the_fee_of_a_subscription_started_inside_its_first_period_starts_with_it():
    # Activated at 10:30 on a day whose midnight anchors the periods.
    started = datetime(2026, 4, 1, 10, 30, tzinfo=timezone.utc)
    (line,) = statement_lines.fee_lines(
        "Pro", "in_arrears", APRIL, MAY, [change(started, 1, "720")], 2, D(0)
    )
    assert line.amount == D("709.50")  # 720 × (30 days - 10.5 h) / 30 days
