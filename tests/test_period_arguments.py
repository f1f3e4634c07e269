"""Which argument of a period computation is wrong, named in the refusal (core.periods).

``test_periods`` checks that naive datetimes are refused; these tests check that the
refusal names the argument at fault, and the bounds of ``overlap_seconds``.
"""

from datetime import datetime

import pytest
from periods_helpers import DAY, utc

from usage_billing_connector.core.periods import (
    Period,
    StateChange,
    overlap_seconds,
    period_containing,
    periods_between,
    proration_segments,
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
