"""Prepaid credits: consumption order, never more than available, commitments."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usage_billing_connector.core import credits, periods, statement_lines
from usage_billing_connector.core.credits import Grant, allocate
from usage_billing_connector.core.pricing import Charge
from usage_billing_connector.core.read_api import credits_answer

D = Decimal
TODAY = date(2026, 3, 15)


def test_expiring_soonest_first_then_priority_then_oldest():
    grants = [
        Grant(1, D("50"), None, 1),
        Grant(2, D("30"), date(2026, 6, 30), 5),
        Grant(3, D("20"), date(2026, 4, 30), 9),
        Grant(4, D("10"), date(2026, 6, 30), 1),
    ]
    assert allocate(D("65"), grants, TODAY) == [
        (3, D("20")),
        (4, D("10")),
        (2, D("30")),
        (1, D("5")),
    ]


def test_same_expiry_and_priority_take_the_oldest_grant_first():
    grants = [Grant(7, D("5"), None, 10), Grant(3, D("5"), None, 10)]
    assert allocate(D("6"), grants, TODAY) == [(3, D("5")), (7, D("1"))]


def test_partial_consumption_leaves_the_rest():
    assert allocate(D("12.34"), [Grant(1, D("100"))], TODAY) == [(1, D("12.34"))]


def test_expired_and_empty_grants_are_skipped():
    grants = [
        Grant(1, D("100"), date(2026, 3, 14)),  # expired yesterday
        Grant(2, D("0"), None),
        Grant(3, D("40"), date(2026, 3, 15)),  # expires today: still usable today
    ]
    assert allocate(D("100"), grants, TODAY) == [(3, D("40"))]


def test_nothing_to_pay_or_nothing_available():
    assert allocate(D("0"), [Grant(1, D("10"))], TODAY) == []
    assert allocate(D("10"), [], TODAY) == []


def test_negative_amount_is_refused():
    with pytest.raises(credits.CreditError):
        allocate(D("-1"), [Grant(1, D("10"))], TODAY)


def test_eligible_amount_usage_only_unless_fees_are_included():
    lines = [("usage", "70.00"), ("fee", "49.00"), ("late_usage", "5.00"), ("commitment", "25")]
    assert credits.eligible_amount(lines, include_fees=False) == D("100.00")
    assert credits.eligible_amount(lines, include_fees=True) == D("149.00")
    assert credits.eligible_amount([("late_usage", "-8")], include_fees=False) == 0


def test_nothing_to_pay_or_spend_is_still_money():
    # Callers quantize these with the currency: an int 0 would break them.
    assert isinstance(credits.eligible_amount([], include_fees=True), Decimal)
    assert isinstance(credits.balance([], TODAY), Decimal)


def test_balance_and_upcoming_expiries():
    grants = [
        Grant(1, D("10"), date(2026, 5, 1)),
        Grant(2, D("15"), date(2026, 4, 1)),
        Grant(3, D("5"), date(2026, 4, 1)),
        Grant(4, D("100"), None),
        Grant(5, D("99"), date(2026, 1, 1)),  # expired
    ]
    assert credits.balance(grants, TODAY) == D("130")
    assert credits.upcoming_expiries(grants, TODAY) == [
        (date(2026, 4, 1), D("20")),
        (date(2026, 5, 1), D("10")),
    ]


def test_low_balance_notifies_once_per_crossing():
    t = credits.low_balance_transition
    assert t(D("100"), D("150"), False) is None
    assert t(D("100"), D("99.99"), False) == credits.NOTIFY
    assert t(D("100"), D("50"), True) is None  # still below: already told
    assert t(D("100"), D("100"), True) == credits.RESET  # topped up: armed again
    assert t(0, D("5"), False) is None  # no threshold
    assert t(0, D("5"), True) == credits.RESET


def test_commitment_shortfall():
    assert credits.commitment_shortfall(D("500"), D("320.50")) == D("179.50")
    assert credits.commitment_shortfall(D("500"), D("800")) == 0
    assert credits.commitment_shortfall(0, D("10")) == 0
    with pytest.raises(credits.CreditError):
        credits.commitment_shortfall(D("-1"), 0)


money = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@given(
    amount=money,
    grants=st.lists(
        st.tuples(
            money,
            st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
            st.integers(0, 20),
        ),
        max_size=8,
    ),
)
def test_allocation_never_exceeds_amount_nor_any_grant(amount, grants):
    grants = [Grant(i + 1, r, e, p) for i, (r, e, p) in enumerate(grants)]
    allocation = allocate(amount, grants, TODAY)
    by_id = {g.id: g for g in grants}
    taken = sum((a for _g, a in allocation), D(0))
    assert taken == min(amount, credits.balance(grants, TODAY))
    assert len({g for g, _a in allocation}) == len(allocation)
    for grant_id, part in allocation:
        assert 0 < part <= by_id[grant_id].remaining
        assert credits.is_available(by_id[grant_id], TODAY)


def test_commitment_line_counts_usage_of_the_period_with_per_charge_minimums():
    period = periods.Period(
        datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc)
    )
    with_minimum = Charge(pricing_model="per_unit", unit_price=D("0.01"), minimum_amount=D("40"))
    usage = [
        statement_lines.usage_line("m1", "API", with_minimum, D("100"), 2, period),  # 1 -> 40
        statement_lines.usage_line(
            "m2", "GB", Charge(pricing_model="per_unit", unit_price=D("2")), D("30"), 2, period
        ),
        statement_lines.Line("fee", "Plan", D("99")),
    ]
    line = statement_lines.commitment_line(D("250"), usage, period)
    assert line.kind == "commitment"
    assert line.amount == D("150")  # 250 - (40 + 60): the fee does not count
    assert "2026-02-01 – 2026-02-28" in line.description
    assert statement_lines.commitment_line(D("100"), usage, period) is None


def test_read_api_credits_answer():
    assert credits_answer(D("120.5"), "EUR", [(date(2026, 4, 30), D("20"))], 2) == {
        "balance": "120.50",
        "currency": "EUR",
        "expires": [{"date": "2026-04-30", "amount": "20.00"}],
    }


def test_a_grant_with_less_than_one_unit_left_still_pays():
    grants = [Grant(1, D("0.40"), None)]
    assert credits.balance(grants, TODAY) == D("0.40")
    assert allocate(D(5), grants, TODAY) == [(1, D("0.40"))]


def test_a_negative_allocation_is_refused_naming_the_amount():
    with pytest.raises(credits.CreditError, match=r"^cannot allocate a negative amount: -1$"):
        allocate(D(-1), [], TODAY)
    with pytest.raises(credits.CreditError, match=r"^a commitment cannot be negative: -5$"):
        credits.commitment_shortfall(-5, 0)


def test_the_five_soonest_expiries_are_listed_by_default():
    grants = [Grant(n, D(n), date(2026, 4, n)) for n in range(1, 8)]
    assert credits.upcoming_expiries(grants, TODAY) == [
        (date(2026, 4, n), D(n)) for n in range(1, 6)
    ]


def test_no_threshold_means_no_low_balance_notice():
    assert credits.low_balance_transition(None, D("0.5"), False) is None
    assert credits.low_balance_transition(0, D("0.5"), False) is None
    assert credits.low_balance_transition(None, D("0.5"), True) == credits.RESET
