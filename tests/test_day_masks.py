from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from usage_billing_connector.core.day_masks import day_bit, month_masks


def test_a_whole_month_sets_one_bit_per_day():
    assert month_masks(date(2026, 2, 1), date(2026, 3, 1)) == [(date(2026, 2, 1), 2**28 - 1)]
    assert month_masks(date(2026, 1, 1), date(2026, 2, 1)) == [(date(2026, 1, 1), 2**31 - 1)]


def test_a_window_across_months_splits_at_the_first_of_the_month():
    assert month_masks(date(2025, 12, 30), date(2026, 1, 3)) == [
        (date(2025, 12, 1), day_bit(date(2025, 12, 30)) | day_bit(date(2025, 12, 31))),
        (date(2026, 1, 1), 0b11),
    ]


def test_an_empty_window_has_no_months():
    assert month_masks(date(2026, 1, 5), date(2026, 1, 5)) == []
    assert month_masks(date(2026, 1, 6), date(2026, 1, 5)) == []


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(min_value=0, max_value=800),
    st.dates(min_value=date(1999, 12, 1), max_value=date(2102, 1, 1)),
)
def test_a_day_is_in_the_masks_exactly_when_it_is_in_the_window(start, length, day):
    end = start + timedelta(days=length)
    masks = dict(month_masks(start, end))
    month = date(day.year, day.month, 1)
    in_masks = bool(masks.get(month, 0) & day_bit(day))
    assert in_masks == (start <= day < end)
    assert all(0 < mask < 2**31 for mask in masks.values())
