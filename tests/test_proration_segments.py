"""By-the-second proration: the segments of a billing period from a subscription's changes."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from periods_helpers import DAY, anchors, intervals, utc

from usage_billing_connector.core.periods import (
    Period,
    Segment,
    StateChange,
    overlap_seconds,
    period_containing,
    proration_segments,
    seconds,
)
from usage_billing_connector.core.pricing import round_amount

D = Decimal


# --- proration ------------------------------------------------------------------------

APRIL = Period(utc(2025, 4, 1), utc(2025, 5, 1))


def test_upgrade_at_exactly_half_of_april_splits_in_halves():
    segments = proration_segments(
        APRIL,
        [(utc(2025, 3, 1), 2, D("99.00"), True), (utc(2025, 4, 16), 5, D("99.00"), True)],
    )
    assert [(s.start, s.end, s.seats) for s in segments] == [
        (utc(2025, 4, 1), utc(2025, 4, 16), 2),
        (utc(2025, 4, 16), utc(2025, 5, 1), 5),
    ]
    assert [s.fraction for s in segments] == [D("0.5"), D("0.5")]
    assert [s.seconds for s in segments] == [15 * DAY, 15 * DAY]
    assert [s.amount for s in segments] == [D("99.00"), D("247.50")]


def test_unchanged_subscription_is_one_full_segment():
    (segment,) = proration_segments(APRIL, [StateChange(APRIL.start, 2, D("99.00"))])
    assert segment == Segment(APRIL.start, APRIL.end, 2, D("99.00"), True, 30 * DAY, D(1))
    assert segment.amount == D("198.00")


def test_suspension_is_returned_inactive_and_costs_nothing():
    segments = proration_segments(
        APRIL,
        [
            (APRIL.start, 3, D(10), True),
            (utc(2025, 4, 11), 3, D(10), False),
            (utc(2025, 4, 21), 3, D(10), True),
        ],
    )
    assert [(s.active, s.seconds) for s in segments] == [
        (True, 10 * DAY),
        (False, 10 * DAY),
        (True, 10 * DAY),
    ]
    assert segments[1].amount == 0
    # Thirds are not exact in Decimal: the currency rounding of each line absorbs it.
    assert [round_amount(s.amount, 2) for s in segments] == [D("10.00"), D(0), D("10.00")]
    assert sum(s.fraction for s in segments) == 1


def test_cancellation_mid_period_leaves_an_inactive_tail():
    segments = proration_segments(
        APRIL, [(APRIL.start, 1, D(30), True), (utc(2025, 4, 25), 1, D(30), False)]
    )
    assert [(s.active, s.end) for s in segments] == [(True, utc(2025, 4, 25)), (False, APRIL.end)]
    assert segments[0].amount == D(24)


def test_changes_that_change_nothing_are_merged():
    segments = proration_segments(
        APRIL,
        [(APRIL.start, 2, D("99.00"), True), (utc(2025, 4, 10), 2, D("99.0"), True)],
    )
    assert len(segments) == 1
    assert segments[0].fraction == 1


def test_price_change_alone_splits_the_period():
    segments = proration_segments(
        APRIL, [(APRIL.start, 2, D(90), True), (utc(2025, 4, 16), 2, D(120), True)]
    )
    assert [s.unit_price for s in segments] == [D(90), D(120)]
    assert sum(s.amount for s in segments) == D(210)


def test_history_before_and_changes_after_the_period_are_ignored():
    segments = proration_segments(
        APRIL,
        [
            (utc(2025, 1, 1), 1, D(5), True),
            (utc(2025, 3, 1), 4, D(5), True),
            (APRIL.end, 9, D(5), True),
            (utc(2025, 6, 1), 7, D(5), False),
        ],
    )
    assert [(s.seats, s.start, s.end) for s in segments] == [(4, APRIL.start, APRIL.end)]


def test_simultaneous_changes_last_one_wins():
    segments = proration_segments(
        APRIL,
        [
            (APRIL.start, 1, D(5), True),
            (utc(2025, 4, 16), 2, D(5), True),
            (utc(2025, 4, 16), 3, D(5), True),
        ],
    )
    assert [s.seats for s in segments] == [1, 3]


def test_thirds_still_add_up_to_exactly_one():
    period = Period(utc(2025, 1, 1), utc(2025, 1, 1, 0, 0, 3))
    segments = proration_segments(
        period,
        [
            (period.start, 1, D(1), True),
            (utc(2025, 1, 1, 0, 0, 1), 2, D(1), True),
            (utc(2025, 1, 1, 0, 0, 2), 3, D(1), True),
        ],
    )
    assert [s.seconds for s in segments] == [1, 1, 1]
    assert abs(segments[0].fraction - D(1) / D(3)) < D("1e-24")
    assert sum(s.fraction for s in segments) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([], "at least the state in force"),
        ([(utc(2025, 4, 2), 1, D(1), True)], "must be in force at the period start"),
        (
            [
                (APRIL.start, 1, D(1), True),
                (utc(2025, 4, 9), 1, D(2), True),
                (utc(2025, 4, 5), 1, D(3), True),
            ],
            "time order",
        ),
        ([(APRIL.start, -1, D(1), True)], "seats must be a non-negative int"),
        ([(APRIL.start, 1.5, D(1), True)], "seats must be a non-negative int"),
        ([(APRIL.start, True, D(1), True)], "seats must be a non-negative int"),
        ([(APRIL.start, 1, D(-1), True)], "unit_price must not be negative"),
        ([(APRIL.start, 1, D(1), "yes")], "active must be a bool"),
        ([(APRIL.start, 1, D(1))], "must be \\(effective_at, seats, unit_price, active\\)"),
    ],
)
def test_invalid_changes_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        proration_segments(APRIL, changes)


# --- properties -----------------------------------------------------------------------


@st.composite
def change_histories(draw):
    """A period and a valid, time-ordered change list starting at or before it."""
    start = draw(anchors)
    period = period_containing(start, draw(intervals), start)
    length = seconds(period)
    offsets = sorted(draw(st.lists(st.integers(min_value=0, max_value=length - 1), max_size=8)))
    states = st.tuples(
        st.integers(min_value=0, max_value=3),
        st.sampled_from([D(0), D("9.99"), D(99)]),
        st.booleans(),
    )
    lead = draw(st.integers(min_value=0, max_value=DAY * 400))
    times = [period.start - timedelta(seconds=lead)]
    times += [period.start + timedelta(seconds=offset) for offset in offsets]
    return period, [(moment, *draw(states)) for moment in times]


@given(change_histories())
def test_proration_segments_tile_the_period_and_fractions_sum_to_one(history):
    period, changes = history
    segments = proration_segments(period, changes)
    assert segments[0].start == period.start
    assert segments[-1].end == period.end
    assert sum(s.fraction for s in segments) == 1
    assert sum(s.seconds for s in segments) == seconds(period)
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start
        assert (before.seats, before.unit_price, before.active) != (
            after.seats,
            after.unit_price,
            after.active,
        )
    for segment in segments:
        assert segment.seconds == overlap_seconds(period, segment.start, segment.end) > 0
        assert abs(segment.fraction - D(segment.seconds) / D(seconds(period))) <= D("1e-23")


@given(change_histories(), st.data())
def test_each_segment_carries_the_state_in_force_at_its_start(history, data):
    period, changes = history
    segments = proration_segments(period, changes)
    segment = data.draw(st.sampled_from(segments))
    moment = segment.start + timedelta(seconds=data.draw(st.integers(0, segment.seconds - 1)))
    in_force = [c for c in changes if c[0] <= moment][-1]
    assert (segment.seats, segment.unit_price, segment.active) == in_force[1:]
