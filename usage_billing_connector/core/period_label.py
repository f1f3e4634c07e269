"""Periods and ages the way an accountant says them.

Billing periods are half-open ``[start, end)`` in UTC (``periods.py``): the end
instant belongs to the next period, so ``Nov 1 00:00 – Dec 1 00:00`` is said
``Nov 1 – Nov 30``.  A bound that is not a midnight (a proration, a
cancellation at 14:30) keeps its time, so nothing is hidden.  The year is said
once when both ends share it, at each end otherwise.

Day formatting is the caller's (the Odoo shell passes the user's language);
the default is English (``Nov 1``).
"""

from datetime import datetime, time, timedelta

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def english_day(day):
    """``Nov 1``: the default day format."""
    return f"{MONTHS[day.month - 1]} {day.day}"


def _is_midnight(moment):
    return moment.time() == time(0)


def _clock(moment):
    return f"{moment:%H:%M}"


def period_label(start, end, format_day=english_day, with_year=True):
    """``Nov 1 – Nov 30, 2026`` for ``[2026-11-01, 2026-12-01)``.

    ``start`` and ``end`` are datetimes of one time zone (naive UTC in Odoo);
    ``format_day(date)`` says a day without its year.  An empty bound gives
    an empty label.
    """
    if not start or not end:
        return ""
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise TypeError("period bounds are datetimes")
    if end <= start:
        raise ValueError(f"period end {end} is not after its start {start}")
    if _is_midnight(end):
        last = end - timedelta(days=1)
        last_text = format_day(last.date())
    else:
        last = end
        last_text = f"{format_day(end.date())} {_clock(end)}"
    first_text = format_day(start.date())
    if not _is_midnight(start):
        first_text = f"{first_text} {_clock(start)}"
    if not with_year:
        return f"{first_text} – {last_text}"
    if start.year == last.year:
        return f"{first_text} – {last_text}, {last.year}"
    return f"{first_text}, {start.year} – {last_text}, {last.year}"


def age_label(seconds):
    """``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``: how long something has waited."""
    if seconds is None:
        return ""
    seconds = max(int(seconds), 0)
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{sec} s"
