"""What a statement line says and carries: the invoice text and figures a customer reads.

``test_statement_lines`` checks the amounts; these tests pin the descriptions, the
quantities, allowances and unit prices that become invoice lines, and the lines that are
not made at all (no seats, usage that met its commitment, nothing changed).
"""

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
PER_UNIT = pricing.Charge("per_unit", unit_price=D("0.002"), included_quantity=D(1000))


def change(when, seats, price, active=True):
    return periods.StateChange(when, seats, D(price), active)


def test_a_usage_line_names_the_metric_quantity_and_period_and_carries_the_rating():
    line = statement_lines.usage_line("m1", "API calls", PER_UNIT, D(91000), 2, APRIL)
    assert line.kind == "usage"
    assert line.description == "API calls: 91,000 (2026-04-01 – 2026-04-30)"
    assert line.amount == D("180.00")
    assert (line.quantity, line.included, line.billable) == (D(91000), D(1000), D(90000))
    assert line.unit_price == D("0.002")
    assert line.breakdown == "Included: 1,000 of 91,000\n90,000 × 0.002 = 180.00"
    assert (line.metric, line.period, line.plan) == ("m1", APRIL, None)


@pytest.mark.parametrize(
    ("quantity", "text"),
    [(D(0), "0"), (D("0.000"), "0"), (D("1234567.250"), "1,234,567.25"), (D("0.5"), "0.5")],
)
def test_usage_quantities_read_with_thousands_separators_and_no_trailing_zeros(quantity, text):
    line = statement_lines.usage_line("m", "Storage", PER_UNIT, quantity, 2, APRIL)
    assert line.description == f"Storage: {text} (2026-04-01 – 2026-04-30)"


def test_usage_amounts_are_rounded_with_the_currency():
    charge = pricing.Charge("per_unit", unit_price=D("0.0015"))
    assert statement_lines.usage_line("m", "Calls", charge, D(3), 2, APRIL).amount == D("0.00")
    assert statement_lines.usage_line("m", "Calls", charge, D(7), 3, APRIL).amount == D("0.011")


def test_a_unit_price_is_shown_only_when_one_price_applies_to_all_billable_units():
    volume = pricing.Charge(
        "volume", tiers=(pricing.Tier(D(100), D(2)), pricing.Tier(None, D("1.5")))
    )
    graduated = pricing.Charge("graduated", tiers=volume.tiers)
    package = pricing.Charge("package", package_size=D(10), package_price=D(5))
    assert statement_lines.usage_line("m", "C", volume, D(150), 2, APRIL).unit_price == D("1.5")
    assert statement_lines.usage_line("m", "C", volume, D(0), 2, APRIL).unit_price is None
    assert statement_lines.usage_line("m", "C", graduated, D(150), 2, APRIL).unit_price is None
    assert statement_lines.usage_line("m", "C", package, D(15), 2, APRIL).unit_price is None


def test_a_late_usage_line_says_what_changed_and_carries_the_re_rated_quantities():
    line = statement_lines.late_usage_line("m1", "API calls", PER_UNIT, D(3000), D("2.00"), 2, MAY)
    assert line.kind == "late_usage"
    assert line.description == (
        "API calls: late usage for 2026-05-01 – 2026-05-31 "
        "(period total now 3,000, owed 4.00, billed 2.00)"
    )
    assert line.amount == D("2.00")
    assert (line.quantity, line.included, line.billable) == (D(3000), D(1000), D(2000))
    assert line.breakdown == "Included: 1,000 of 3,000\n2,000 × 0.002 = 4.00"
    assert (line.metric, line.period, line.plan, line.unit_price) == ("m1", MAY, None, None)


def test_a_fee_line_states_plan_seats_price_and_the_stretch_it_bills():
    history = [change(APRIL.start, 2, "49.5")]
    (line,) = statement_lines.fee_lines("Pro", "in_arrears", APRIL, MAY, history, 2, D(0))
    assert line.kind == "fee"
    assert line.description == "Pro: 2 seat(s) × 49.5 (2026-04-01 – 2026-04-30)"
    assert line.amount == D("99.00")
    assert (line.quantity, line.billable, line.unit_price) == (D(2), D(2), D("49.5"))
    assert line.period == APRIL


def test_stretches_without_seats_or_not_active_make_no_fee_line():
    history = [change(APRIL.start, 0, "100"), change(MID_APRIL, 1, "100")]
    (line,) = statement_lines.fee_lines("Pro", "in_arrears", APRIL, MAY, history, 2, D(0))
    assert line.period == periods.Period(MID_APRIL, APRIL.end)
    assert line.description == (
        "Pro: 1 seat(s) × 100 (2026-04-16 – 2026-04-30, 50.00% of 2026-04-01 – 2026-04-30)"
    )
    none = [change(APRIL.start, 3, "100", active=False)]
    assert statement_lines.fee_lines("Pro", "in_arrears", APRIL, MAY, none, 2, D(0)) == []


def test_in_advance_the_next_period_is_billed_at_the_state_in_force_at_the_end():
    history = [change(APRIL.start, 1, "100"), change(MID_APRIL, 3, "100")]
    adjustment, ahead = statement_lines.fee_lines(
        "Pro", "in_advance", APRIL, MAY, history, 2, D(100)
    )
    assert adjustment.description == (
        "Pro: adjustment for 2026-04-01 – 2026-04-30 (owed 200.00, billed in advance 100)"
    )
    assert adjustment.breakdown.splitlines() == [
        "Pro: 1 seat(s) × 100 (2026-04-01 – 2026-04-15, 50.00% of 2026-04-01 – 2026-04-30)",
        "Pro: 3 seat(s) × 100 (2026-04-16 – 2026-04-30, 50.00% of 2026-04-01 – 2026-04-30)",
    ]
    assert (adjustment.period, adjustment.quantity) == (APRIL, D(0))
    assert ahead.description == "Pro: 3 seat(s) × 100 (2026-05-01 – 2026-05-31) (in advance)"
    assert (ahead.kind, ahead.quantity, ahead.billable, ahead.unit_price) == (
        "fee",
        D(3),
        D(3),
        D(100),
    )
    assert ahead.period == MAY


def test_in_advance_nothing_is_adjusted_when_the_period_cost_what_was_billed_ahead():
    history = [change(APRIL.start, 1, "100")]
    (ahead,) = statement_lines.fee_lines("Pro", "in_advance", APRIL, MAY, history, 2, D(100))
    assert ahead.period == MAY and ahead.amount == D("100.00")


def test_in_advance_a_cancellation_before_the_end_bills_nothing_ahead():
    history = [change(APRIL.start, 1, "100"), change(MID_APRIL, 1, "100", active=False)]
    (adjustment,) = statement_lines.fee_lines("Pro", "in_advance", APRIL, MAY, history, 2, D(0))
    assert adjustment.kind == "fee_adjustment"
    assert adjustment.amount == D("50.00")


def test_a_change_at_the_end_of_the_period_applies_only_to_the_next_one():
    history = [change(APRIL.start, 1, "100"), change(MAY.start, 5, "100")]
    lines = statement_lines.fee_lines("Pro", "in_advance", APRIL, MAY, history, 2, D(100))
    assert [(line.kind, line.amount) for line in lines] == [("fee", D("100.00"))]


def test_a_commitment_line_charges_the_shortfall_of_this_periods_usage_only():
    usage = statement_lines.usage_line("m", "Calls", PER_UNIT, D(31000), 2, APRIL)  # 60.00
    late = statement_lines.late_usage_line("m", "Calls", PER_UNIT, D(9000), D(0), 2, MAY)
    fee = statement_lines.Line("fee", "Pro", D(500))
    line = statement_lines.commitment_line(D(100), [usage, late, fee], APRIL, plan="large")
    assert line.kind == "commitment"
    assert line.description == (
        "Commitment true-up for 2026-04-01 – 2026-04-30 (committed 100, usage charged 60.00)"
    )
    assert line.amount == D("40.00")
    assert (line.quantity, line.billable, line.unit_price) == (D(1), D(1), D("40.00"))
    assert (line.breakdown, line.period, line.plan) == ("", APRIL, "large")


def test_a_period_ending_just_after_midnight_names_that_day_as_its_last():
    # Half-open periods: the last day billed is the day of the period's last second.
    period = periods.Period(APRIL.start, datetime(2026, 5, 1, 0, 0, 1, tzinfo=timezone.utc))
    line = statement_lines.commitment_line(D(100), [], period)
    assert "for 2026-04-01 – 2026-05-01 " in line.description


def test_usage_that_meets_the_commitment_makes_no_true_up():
    usage = statement_lines.usage_line("m", "Calls", PER_UNIT, D(51000), 2, APRIL)  # 100.00
    assert statement_lines.commitment_line(D(100), [usage], APRIL) is None
    assert statement_lines.commitment_line(D(0), [], APRIL) is None


def test_a_commitment_adjustment_says_what_it_corrects():
    line = statement_lines.commitment_adjustment_line(
        D(100), D("90.00"), D("40.00"), APRIL, plan="large"
    )
    assert line.description == (
        "Commitment true-up for 2026-04-01 – 2026-04-30 after late usage "
        "(committed 100, usage charged 90.00, trued up before 40.00)"
    )
    assert (line.quantity, line.billable, line.unit_price) == (D(1), D(1), D("-30.00"))
    assert (line.period, line.plan) == (APRIL, "large")


def test_a_stretch_shorter_than_the_period_shows_its_share_to_the_hundredth():
    third = datetime(2026, 4, 11, tzinfo=timezone.utc)
    history = [change(APRIL.start, 1, "30"), change(third, 1, "60")]
    first, second = statement_lines.fee_lines("Pro", "in_arrears", APRIL, MAY, history, 2, D(0))
    assert first.description.endswith(
        "(2026-04-01 – 2026-04-10, 33.33% of 2026-04-01 – 2026-04-30)"
    )
    assert second.description.endswith(
        "(2026-04-11 – 2026-04-30, 66.67% of 2026-04-01 – 2026-04-30)"
    )
    assert (first.amount, second.amount) == (D("10.00"), D("40.00"))


@pytest.mark.parametrize(
    ("billable", "unit_price", "digits", "expected"),
    [
        (D(3), D("1.25"), (2, 2, 0), (D(3), D("1.25"))),
        (D("2.5"), D(4), (2, 2, 0), (D(1), D("10.00"))),  # quantity beyond its precision
        (D(3), D("1.255"), (2, 3, 2), (D(3), D("1.255"))),
        (D(3), D("1.2551"), (2, 3, 2), (D(1), D("3.77"))),  # price beyond its precision
        (D(0), D(5), (2, 2, 2), (D(1), D("0.00"))),
    ],
)
def test_invoice_figures_keep_quantity_and_price_only_within_their_precisions(
    billable, unit_price, digits, expected
):
    currency, price_digits, quantity_digits = digits
    amount = pricing.round_amount(billable * unit_price, currency)
    figures = statement_lines.invoice_figures(
        amount, billable, unit_price, currency, price_digits, quantity_digits
    )
    assert figures == expected


def test_invoice_figures_fall_back_to_one_times_the_amount_when_rounding_differs():
    # A displayed unit price of 0.34 for a line rated 1.01 (0.3367 each): 3 × 0.34 = 1.02.
    figures = statement_lines.invoice_figures(D("1.01"), D(3), D("0.34"), 2, 2, 0)
    assert figures == (D(1), D("1.01"))


def test_a_commitment_not_yet_in_force_is_left_out_of_the_breakdown():
    changes = [(APRIL.start, D(100), False), (MID_APRIL, D(100), True)]
    amount, breakdown = statement_lines.period_commitment(APRIL, changes, 2)
    assert amount == D("50.00")
    assert breakdown == (
        "Committed 100 for 2026-04-16 – 2026-04-30, 50.00% of 2026-04-01 – 2026-04-30"
    )
    assert statement_lines.period_commitment(APRIL, [], 2) == (D(0), "")
