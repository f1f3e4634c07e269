"""Days of a window as one bit mask per calendar month.

Distinct values of ``unique_count`` metrics are kept once per (tenant, metric,
month, value) with the days of that month they were seen as the bits of an
integer (bit 0 = the 1st).  A whole-day window then reads as a few
``(month, mask)`` pairs: a value was seen in the window exactly when, for one of
its months, ``days & mask`` is not zero.  A month has at most 31 days, so the
mask fits the 31 low bits of a signed 32-bit integer.
"""

from datetime import date, timedelta


def day_bit(day):
    """The bit of ``day`` in its month's mask."""
    return 1 << (day.day - 1)


def month_masks(start, end):
    """``[(first day of month, mask)]`` covering the days of ``[start, end)``, in order.

    ``start`` and ``end`` are dates; an empty or inverted window has no months.
    """
    masks = []
    day = start
    while day < end:
        month = date(day.year, day.month, 1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        last = min(end, next_month)
        # Bits from the window's first day of this month up to (excluding) its end.
        mask = (1 << ((last - month).days)) - (1 << (day.day - 1))
        masks.append((month, mask))
        day = last
    return masks
