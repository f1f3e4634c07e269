"""Billing periods from a subscription anchor: schedules, half-open periods, UTC only.

By-the-second proration segments are tested in test_proration_segments.py.
"""

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from periods_helpers import DAY, UTC, anchors, intervals, utc

from usage_billing_connector.core.periods import (
    Period,
    add_months,
    next_period,
    overlap_seconds,
    period_containing,
    periods_between,
    proration_segments,
    seconds,
)

D = Decimal


def starts(periods):
    return [p.start for p in periods]


# --- schedules ------------------------------------------------------------------------


def test_month_end_anchor_returns_to_its_day_after_short_months():
    anchor = utc(2023, 1, 31)
    periods = periods_between(anchor, "monthly", utc(2023, 6, 1))
    assert starts(periods) == [
        utc(2023, 1, 31),
        utc(2023, 2, 28),
        utc(2023, 3, 31),
        utc(2023, 4, 30),
    ]
    assert periods[-1].end == utc(2023, 5, 31)


def test_month_end_anchor_in_leap_year_uses_february_29():
    periods = periods_between(utc(2024, 1, 31), "monthly", utc(2024, 4, 1))
    assert [(p.start, p.end) for p in periods] == [
        (utc(2024, 1, 31), utc(2024, 2, 29)),
        (utc(2024, 2, 29), utc(2024, 3, 31)),
    ]
    assert [seconds(p) for p in periods] == [29 * DAY, 31 * DAY]


def test_yearly_leap_day_anchor_clamps_then_returns_to_february_29():
    periods = periods_between(utc(2024, 2, 29), "yearly", utc(2028, 3, 1))
    assert starts(periods) == [
        utc(2024, 2, 29),
        utc(2025, 2, 28),
        utc(2026, 2, 28),
        utc(2027, 2, 28),
    ]
    assert periods[-1].end == utc(2028, 2, 29)
    assert seconds(periods[0]) == 365 * DAY


def test_yearly_period_length_follows_leap_years():
    assert seconds(period_containing(utc(2024, 6, 1), "yearly", utc(2024, 1, 1))) == 366 * DAY
    assert seconds(period_containing(utc(2025, 6, 1), "yearly", utc(2024, 1, 1))) == 365 * DAY


def test_quarterly_from_month_end_anchor():
    periods = periods_between(utc(2023, 11, 30), "quarterly", utc(2024, 12, 1))
    assert starts(periods) == [
        utc(2023, 11, 30),
        utc(2024, 2, 29),
        utc(2024, 5, 30),
        utc(2024, 8, 30),
    ]
    assert periods[-1].end == utc(2024, 11, 30)


def test_quarterly_periods_are_aligned_to_the_anchor_month_not_calendar_quarters():
    period = period_containing(utc(2025, 3, 15), "quarterly", utc(2024, 2, 10))
    assert period == Period(utc(2025, 2, 10), utc(2025, 5, 10))


def test_anchor_time_of_day_is_kept():
    period = period_containing(utc(2025, 3, 10, 9), "monthly", utc(2025, 1, 10, 14, 30))
    assert period == Period(utc(2025, 2, 10, 14, 30), utc(2025, 3, 10, 14, 30))


@pytest.mark.parametrize(
    ("moment", "expected_start"),
    [
        (utc(2025, 4, 1), utc(2025, 4, 1)),
        (utc(2025, 4, 30, 23, 59, 59), utc(2025, 4, 1)),
        (utc(2025, 5, 1), utc(2025, 5, 1)),
        (utc(2025, 3, 31, 23, 59, 59), utc(2025, 3, 1)),
    ],
)
def test_periods_are_half_open(moment, expected_start):
    assert period_containing(moment, "monthly", utc(2025, 1, 1)).start == expected_start


def test_moment_before_anchor_gets_the_schedules_earlier_period():
    anchor = utc(2025, 1, 31)
    assert period_containing(utc(2024, 12, 31, 12), "monthly", anchor) == Period(
        utc(2024, 12, 31), anchor
    )
    assert period_containing(utc(2024, 12, 20), "monthly", anchor) == Period(
        utc(2024, 11, 30), utc(2024, 12, 31)
    )


def test_march_is_31_days_in_utc_despite_daylight_saving():
    march = period_containing(utc(2025, 3, 15), "monthly", utc(2025, 1, 1))
    assert seconds(march) == 31 * DAY


def test_other_time_zones_are_converted_to_utc():
    paris_summer = timezone(timedelta(hours=2))
    period = period_containing(
        datetime(2025, 5, 1, 1, 0, tzinfo=paris_summer), "monthly", utc(2025, 1, 1)
    )
    # 01:00 at UTC+2 is still April 30 in UTC.
    assert period == Period(utc(2025, 4, 1), utc(2025, 5, 1))
    assert period.start.tzinfo == UTC
    converted = Period(datetime(2025, 4, 1, 2, tzinfo=paris_summer), utc(2025, 5, 1))
    assert (converted.start, converted.start.tzinfo) == (utc(2025, 4, 1), UTC)


def test_non_utc_anchor_is_scheduled_on_its_utc_calendar():
    # Jan 30 23:00 at UTC-2 is Jan 31 01:00 UTC: the UTC month end is what clamps.
    anchor = datetime(2025, 1, 30, 23, tzinfo=timezone(timedelta(hours=-2)))
    period = period_containing(utc(2025, 2, 15), "monthly", anchor)
    assert period == Period(utc(2025, 1, 31, 1), utc(2025, 2, 28, 1))
    assert period.end.tzinfo == UTC


def test_microseconds_are_dropped_to_keep_whole_seconds():
    period = Period(utc(2025, 4, 1, 0, 0, 0, 999_999), utc(2025, 4, 2))
    assert period.start == utc(2025, 4, 1)
    assert seconds(period) == DAY


def test_next_period_and_periods_between():
    anchor = utc(2025, 1, 31)
    january = period_containing(anchor, "monthly", anchor)
    february = next_period(january, "monthly", anchor)
    assert february == Period(utc(2025, 2, 28), utc(2025, 3, 31))
    assert next_period(february, "monthly", anchor).start == utc(2025, 3, 31)
    assert periods_between(anchor, "monthly", utc(2025, 3, 30)) == [january]
    assert periods_between(anchor, "monthly", utc(2025, 3, 31)) == [january, february]
    assert periods_between(anchor, "monthly", utc(2025, 2, 27)) == []
    assert periods_between(anchor, "monthly", utc(2024, 1, 1)) == []


def test_next_period_refuses_a_period_off_the_schedule():
    with pytest.raises(ValueError, match="not a monthly period"):
        next_period(Period(utc(2025, 1, 1), utc(2025, 2, 1)), "monthly", utc(2025, 1, 15))
    with pytest.raises(ValueError, match="not a quarterly period"):
        next_period(Period(utc(2025, 1, 1), utc(2025, 2, 1)), "quarterly", utc(2025, 1, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda: period_containing(datetime(2025, 1, 1), "monthly", utc(2025, 1, 1)),
        lambda: period_containing(utc(2025, 1, 1), "monthly", datetime(2025, 1, 1)),
        lambda: periods_between(utc(2025, 1, 1), "monthly", datetime(2025, 6, 1)),
        lambda: Period(datetime(2025, 1, 1), utc(2025, 2, 1)),
        lambda: overlap_seconds(
            Period(utc(2025, 1, 1), utc(2025, 2, 1)), datetime(2025, 1, 1), utc(2025, 1, 2)
        ),
        lambda: proration_segments(
            Period(utc(2025, 1, 1), utc(2025, 2, 1)), [(datetime(2025, 1, 1), 1, D(1), True)]
        ),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("interval", ["weekly", "Monthly", None, 1])
def test_unknown_interval_is_refused(interval):
    with pytest.raises(ValueError, match="unknown billing interval"):
        period_containing(utc(2025, 1, 1), interval, utc(2025, 1, 1))


def test_period_must_not_be_empty_or_reversed():
    with pytest.raises(ValueError, match="must be after"):
        Period(utc(2025, 1, 1), utc(2025, 1, 1))
    with pytest.raises(ValueError, match="must be a datetime"):
        Period("2025-01-01", utc(2025, 1, 2))


def test_period_membership_is_half_open():
    april = Period(utc(2025, 4, 1), utc(2025, 5, 1))
    assert utc(2025, 4, 1) in april
    assert utc(2025, 5, 1) not in april


def test_add_months_clamps_and_crosses_years():
    assert add_months(utc(2025, 1, 31), 1) == utc(2025, 2, 28)
    assert add_months(utc(2025, 11, 30, 6), 3) == utc(2026, 2, 28, 6)
    assert add_months(utc(2025, 3, 31), -1) == utc(2025, 2, 28)
    assert add_months(utc(2025, 1, 15), -13) == utc(2023, 12, 15)


def test_overlap_seconds():
    april = Period(utc(2025, 4, 1), utc(2025, 5, 1))
    assert overlap_seconds(april, utc(2025, 3, 1), utc(2025, 6, 1)) == 30 * DAY
    assert overlap_seconds(april, utc(2025, 4, 16), utc(2025, 6, 1)) == 15 * DAY
    assert overlap_seconds(april, utc(2025, 3, 31, 23), utc(2025, 4, 1, 1)) == 3_600
    assert overlap_seconds(april, utc(2025, 5, 1), utc(2025, 5, 2)) == 0
    assert overlap_seconds(april, utc(2025, 3, 1), utc(2025, 3, 2)) == 0
    with pytest.raises(ValueError, match="before start"):
        overlap_seconds(april, utc(2025, 4, 2), utc(2025, 4, 1))


# --- properties -----------------------------------------------------------------------


MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


@given(anchors, anchors, intervals)
def test_period_containing_holds_the_moment_and_sits_on_the_schedule(anchor, moment, interval):
    period = period_containing(moment, interval, anchor)
    assert period.start <= moment < period.end
    months = (period.start.year - anchor.year) * 12 + period.start.month - anchor.month
    assert months % MONTHS[interval] == 0
    assert period.start == add_months(anchor, months)
    assert period.end == add_months(anchor, months + MONTHS[interval])
    assert period.start.time() == anchor.time()
    assert period_containing(period.start, interval, anchor) == period
    assert period_containing(period.end - timedelta(seconds=1), interval, anchor) == period


@given(anchors, intervals, st.integers(min_value=0, max_value=40))
def test_periods_between_are_contiguous_and_complete(anchor, interval, count):
    until = add_months(anchor, count * MONTHS[interval])
    periods = periods_between(anchor, interval, until)
    assert len(periods) == count
    if periods:
        assert periods[0].start == anchor
        assert periods[-1].end == until
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
        assert next_period(before, interval, anchor) == after
    assert periods_between(anchor, interval, until - timedelta(seconds=1)) == periods[:-1]


@given(anchors, intervals)
def test_period_day_is_anchor_day_clamped_to_month_end(anchor, interval):
    period = next_period(period_containing(anchor, interval, anchor), interval, anchor)
    last_day = (add_months(period.start.replace(day=1), 1) - timedelta(days=1)).day
    assert period.start.day == min(anchor.day, last_day)
