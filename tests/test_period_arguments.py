"""Which argument of a period computation is wrong, named in the refusal (core.periods).

``test_periods`` checks that naive datetimes are refused; these tests check that the
refusal names the argument at fault, and the bounds of ``overlap_seconds``.
"""

from datetime import datetime
from decimal import Decimal

import pytest
from periods_helpers import DAY, utc

from usage_billing_connector.core.periods import (
    Period,
    StateChange,
    not_in_force_before,
    overlap_seconds,
    period_containing,
    periods_between,
    proration_segments,
    seconds,
)

APRIL = Period(utc(2025, 4, 1), utc(2025, 5, 1))
NAIVE = datetime(2025, 4, 1)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: periods_between(NAIVE, "monthly", utc(2025, 6, 1)), "anchor"),
        (lambda: periods_between(utc(2025, 1, 1), "monthly", NAIVE), "until"),
        (lambda: period_containing(utc(2025, 1, 1), "monthly", NAIVE), "anchor"),
        (lambda: period_containing(NAIVE, "monthly", utc(2025, 1, 1)), "moment"),
        (lambda: overlap_seconds(APRIL, NAIVE, utc(2025, 4, 2)), "start"),
        (lambda: overlap_seconds(APRIL, utc(2025, 4, 2), NAIVE), "end"),
        (lambda: Period(NAIVE, utc(2025, 5, 1)), "period start"),
        (lambda: Period(utc(2025, 4, 1), datetime(2025, 5, 1)), "period end"),
    ],
)
def test_a_naive_argument_is_named(call, name):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value).startswith(f"{name} must be timezone-aware (UTC), got naive ")


def test_an_empty_stretch_overlaps_nothing_and_a_reversed_one_is_refused():
    assert overlap_seconds(APRIL, utc(2025, 4, 2), utc(2025, 4, 2)) == 0
    with pytest.raises(ValueError) as err:
        overlap_seconds(APRIL, utc(2025, 4, 2), utc(2025, 4, 1))
    assert str(err.value) == (
        "end 2025-04-01T00:00:00+00:00 is before start 2025-04-02T00:00:00+00:00"
    )


def test_overlaps_are_whole_seconds_as_ints():
    seconds = overlap_seconds(APRIL, utc(2025, 4, 1), utc(2025, 4, 2, 0, 0, 30))
    assert seconds == DAY + 30
    assert isinstance(seconds, int)


def test_a_reversed_period_names_both_bounds():
    with pytest.raises(ValueError) as err:
        Period(utc(2025, 5, 1), utc(2025, 4, 1))
    assert str(err.value) == (
        "period end 2025-04-01T00:00:00+00:00 must be after 2025-05-01T00:00:00+00:00"
    )


def test_an_unknown_interval_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        period_containing(utc(2025, 1, 1), "weekly", utc(2025, 1, 1))
    assert str(err.value) == (
        "unknown billing interval 'weekly'; expected one of monthly, quarterly, yearly"
    )


def test_segments_count_whole_seconds_as_ints():
    changes = [StateChange(APRIL.start, 1, 10, True), StateChange(utc(2025, 4, 16), 2, 10, True)]
    first, second = proration_segments(APRIL, changes)
    assert (first.seconds, second.seconds) == (15 * DAY, 15 * DAY)
    assert all(isinstance(segment.seconds, int) for segment in (first, second))


def at(day, seats=1, price=1, active=True):
    return (utc(2025, 4, day), seats, price, active)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([(utc(2025, 4, 1), 1, "x", True)], "change 0 unit_price is not a number: 'x'"),
        ([at(1), (datetime(2025, 4, 2), 1, 1, True)],
         "change 1 effective_at must be timezone-aware (UTC), got naive 2025-04-02T00:00:00"),
        ([at(1), at(3), at(2)], "changes must be in time order: change 2 goes back in time"),
        ([at(1), at(2), at(3), at(2)], "changes must be in time order: change 3 goes back in time"),
        ([], "changes must give at least the state in force at the period start"),
        ([at(2)], "the first change (2025-04-02T00:00:00+00:00) must be in force at the period "
         "start (2025-04-01T00:00:00+00:00)"),
        ([at(1, seats=-1)], "change 0: seats must be a non-negative int, got -1"),
        ([at(1), at(2, active=1)], "change 1: active must be a bool, got 1"),
        ([at(1, price=-1)], "change 0: unit_price must not be negative, got -1"),
    ],
)  # fmt: skip
def test_a_refused_history_names_the_change_at_fault(changes, message):
    with pytest.raises(ValueError) as err:
        proration_segments(APRIL, changes)
    assert str(err.value) == message


def test_a_naive_first_change_is_named_before_the_period_is_filled():
    with pytest.raises(ValueError) as err:
        not_in_force_before(APRIL, [(datetime(2025, 4, 2), 1, 1, True)])
    assert str(err.value) == (
        "change 0 effective_at must be timezone-aware (UTC), got naive 2025-04-02T00:00:00"
    )


def test_a_period_lasts_whole_seconds_as_an_int():
    assert seconds(APRIL) == 30 * DAY
    assert isinstance(seconds(APRIL), int)


def test_a_subscription_starting_inside_the_period_is_preceded_by_nothing_in_force():
    started = at(16)
    assert not_in_force_before(APRIL, [started]) == [
        StateChange(APRIL.start, 0, Decimal(0), False),
        started,
    ]
    assert not_in_force_before(APRIL, [at(1)]) == [at(1)]
    assert not_in_force_before(APRIL, []) == []
