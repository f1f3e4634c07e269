"""Periods and ages as an accountant says them (``core/period_label.py``)."""

from datetime import date, datetime

import pytest

from usage_billing_connector.core.period_label import age_label, english_day, period_label


def test_a_month_ends_on_its_last_day_not_on_the_next_ones_midnight():
    assert period_label(datetime(2026, 11, 1), datetime(2026, 12, 1)) == "Nov 1 – Nov 30, 2026"


def test_without_the_year():
    label = period_label(datetime(2026, 11, 1), datetime(2026, 12, 1), with_year=False)
    assert label == "Nov 1 – Nov 30"


def test_a_period_across_years_says_both_years():
    label = period_label(datetime(2026, 12, 15), datetime(2027, 1, 15))
    assert label == "Dec 15, 2026 – Jan 14, 2027"


def test_a_year_ending_at_new_year_midnight_is_one_year():
    assert period_label(datetime(2026, 1, 1), datetime(2027, 1, 1)) == "Jan 1 – Dec 31, 2026"


def test_a_single_day():
    assert period_label(datetime(2026, 2, 28), datetime(2026, 3, 1)) == "Feb 28 – Feb 28, 2026"


def test_bounds_off_midnight_keep_their_time():
    label = period_label(datetime(2026, 11, 10, 14, 30), datetime(2026, 11, 20, 9, 5))
    assert label == "Nov 10 14:30 – Nov 20 09:05, 2026"


def test_the_day_format_is_the_callers():
    label = period_label(
        datetime(2026, 11, 1), datetime(2026, 12, 1), format_day=lambda d: f"{d.day}.{d.month}."
    )
    assert label == "1.11. – 30.11., 2026"


def test_missing_bounds_give_no_label():
    assert period_label(False, datetime(2026, 12, 1)) == ""
    assert period_label(None, None) == ""


def test_refuses_an_empty_or_reversed_period():
    with pytest.raises(ValueError):
        period_label(datetime(2026, 12, 1), datetime(2026, 12, 1))
    with pytest.raises(TypeError):
        period_label(date(2026, 11, 1), date(2026, 12, 1))


def test_english_day():
    assert english_day(date(2026, 9, 7)) == "Sep 7"


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (None, ""),
        (-5, "0 s"),
        (45, "45 s"),
        (12 * 60 + 59, "12 min"),
        (3 * 3600 + 5 * 60, "3 h 05 min"),
        (2 * 86400 + 4 * 3600 + 59 * 60, "2 d 4 h"),
    ],
)
def test_age_label(seconds, label):
    assert age_label(seconds) == label


@pytest.mark.parametrize(
    "bounds",
    [
        (datetime(2026, 11, 1), date(2026, 12, 1)),
        (date(2026, 11, 1), datetime(2026, 12, 1)),
    ],
)
def test_both_bounds_must_be_datetimes(bounds):
    with pytest.raises(TypeError, match=r"^period bounds are datetimes$"):
        period_label(*bounds)


def test_a_reversed_period_names_its_bounds():
    with pytest.raises(ValueError) as err:
        period_label(datetime(2026, 12, 1), datetime(2026, 11, 1))
    assert str(err.value) == (
        "period end 2026-11-01 00:00:00 is not after its start 2026-12-01 00:00:00"
    )


def test_an_empty_bound_gives_an_empty_label():
    assert period_label(None, datetime(2026, 12, 1)) == ""
    assert period_label(datetime(2026, 12, 1), False) == ""
