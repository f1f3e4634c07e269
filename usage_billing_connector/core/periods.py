"""Billing periods and by-the-second proration of recurring fees.

A subscription's billing anchor is the start of its first period; period ``k``
starts at ``anchor + k x interval`` calendar months, always computed from the
anchor (never chained from the previous period), so a Jan 31 anchor gives
Jan 31 -> Feb 28/29 -> Mar 31 instead of drifting to the 28th for good.

Every datetime is timezone-aware and handled in UTC: billing boundaries must
not move with daylight-saving changes, and naive datetimes are refused because
guessing their zone is how invoices end up an hour off.  Aware datetimes in
other zones are converted to UTC.  Microseconds are dropped: the billing clock
ticks in whole seconds (Odoo Datetime fields store none), which keeps every
second count an exact int and lets proration fractions add up to exactly 1.

Periods are half-open ``[start, end)``: the end instant belongs to the next one.
"""

import calendar
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from . import utc
from .numbers import to_decimal

INTERVAL_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}

_ONE_SECOND = timedelta(seconds=1)
_FRACTION_QUANTUM = Decimal("1e-24")


def interval_months(interval: str) -> int:
    """Length of a billing ``interval`` in months; ValueError for an unknown one."""
    try:
        return INTERVAL_MONTHS[interval]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown billing interval {interval!r}; expected one of {', '.join(INTERVAL_MONTHS)}"
        ) from None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` shifted by whole calendar ``months``, its day clamped to the month's end."""
    month_index = moment.year * 12 + moment.month - 1 + months
    year, month0 = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


@dataclass(frozen=True)
class Period:
    """A half-open billing period ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self):
        start = utc.to_utc(self.start, "period start")
        end = utc.to_utc(self.end, "period end")
        if end <= start:
            raise ValueError(f"period end {end.isoformat()} must be after {start.isoformat()}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def __contains__(self, moment):
        return self.start <= utc.to_utc(moment) < self.end


def _period_start(anchor, months, index):
    return add_months(anchor, index * months)


def _period(anchor, months, index):
    return Period(_period_start(anchor, months, index), _period_start(anchor, months, index + 1))


def _index_containing(moment, anchor, months):
    """Index ``k`` of the period holding ``moment``; negative before the anchor.

    ``k = month difference // months`` puts period ``k`` in the moment's month
    or earlier and period ``k + 1`` in a later month.  Only when period ``k``
    starts later in the moment's own month (a later day or time of day) does
    the moment belong to the period before.
    """
    month_diff = (moment.year - anchor.year) * 12 + moment.month - anchor.month
    index = month_diff // months
    if _period_start(anchor, months, index) > moment:
        index -= 1
    return index


def period_containing(moment: datetime, interval: str, anchor: datetime) -> Period:
    """The period of the ``anchor``-based schedule with ``start <= moment < end``."""
    moment = utc.to_utc(moment)
    anchor = utc.to_utc(anchor, "anchor")
    months = interval_months(interval)
    return _period(anchor, months, _index_containing(moment, anchor, months))


def next_period(period: Period, interval: str, anchor: datetime) -> Period:
    """The period following ``period``; refuses a period that is not on the schedule.

    Checking guards against mixing anchors or intervals between a subscription
    and its periods, which would silently skip or double-bill days.
    """
    current = period_containing(period.start, interval, anchor)
    if current != period:
        raise ValueError(
            f"period {period.start.isoformat()} – {period.end.isoformat()} is not a "
            f"{interval} period of the schedule anchored at {utc.to_utc(anchor).isoformat()}"
        )
    return period_containing(period.end, interval, anchor)


def periods_between(anchor: datetime, interval: str, until: datetime) -> list[Period]:
    """Every period from the anchor on that has ended by ``until`` (``end <= until``).

    These are the periods that can be invoiced at ``until``; the one still
    running is left out.
    """
    anchor = utc.to_utc(anchor, "anchor")
    until = utc.to_utc(until, "until")
    months = interval_months(interval)
    periods = []
    index = 0
    while (period := _period(anchor, months, index)).end <= until:
        periods.append(period)
        index += 1
    return periods


def seconds(period: Period) -> int:
    """Length of ``period`` in whole seconds, the unit of proration."""
    return (period.end - period.start) // _ONE_SECOND


def overlap_seconds(period: Period, start: datetime, end: datetime) -> int:
    """Seconds of ``[start, end)`` that fall inside ``period`` (0 when disjoint)."""
    start = utc.to_utc(start, "start")
    end = utc.to_utc(end, "end")
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    overlap = min(end, period.end) - max(start, period.start)
    return max(overlap // _ONE_SECOND, 0)


class StateChange(NamedTuple):
    """The subscription state in force from ``effective_at`` until the next change."""

    effective_at: datetime
    seats: int
    unit_price: Decimal
    active: bool = True


@dataclass(frozen=True)
class Segment:
    """A stretch of a period with constant seats, price and activity.

    ``fraction`` is ``seconds / period seconds`` (exact when the division ends
    within 24 decimal places, as halves and quarters do); the last segment
    absorbs the rounding in the 24th place so the fractions of a period add up
    to exactly 1.  Inactive segments (suspended, cancelled) are kept so callers can
    show them, but they cost nothing.
    """

    start: datetime
    end: datetime
    seats: int
    unit_price: Decimal
    active: bool
    seconds: int
    fraction: Decimal

    @property
    def amount(self) -> Decimal:
        """Unrounded recurring fee for this segment: seats × unit_price × fraction."""
        if not self.active:
            return Decimal(0)
        return self.seats * self.unit_price * self.fraction


def _coerce_change(change, position):
    """Validate one ``(effective_at, seats, unit_price, active)`` tuple."""
    try:
        effective_at, seats, unit_price, active = change
    except (TypeError, ValueError):
        raise ValueError(
            f"change {position} must be (effective_at, seats, unit_price, active), got {change!r}"
        ) from None
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 0:
        raise ValueError(f"change {position}: seats must be a non-negative int, got {seats!r}")
    if not isinstance(active, bool):
        raise ValueError(f"change {position}: active must be a bool, got {active!r}")
    price = to_decimal(unit_price, f"change {position} unit_price")
    if price < 0:
        raise ValueError(f"change {position}: unit_price must not be negative, got {price}")
    return StateChange(
        utc.to_utc(effective_at, f"change {position} effective_at"), seats, price, active
    )


def _coerce_changes(period, changes):
    """Validated changes, in order, the first one in force at the period start."""
    states = [_coerce_change(change, position) for position, change in enumerate(changes)]
    if not states:
        raise ValueError("changes must give at least the state in force at the period start")
    if states[0].effective_at > period.start:
        raise ValueError(
            f"the first change ({states[0].effective_at.isoformat()}) must be in force at the "
            f"period start ({period.start.isoformat()})"
        )
    for position, (before, after) in enumerate(itertools.pairwise(states), start=1):
        if after.effective_at < before.effective_at:
            raise ValueError(f"changes must be in time order: change {position} goes back in time")
    return states


def _constant_stretches(period, states):
    """``[start, end, state]`` runs inside the period, merging changes that change nothing."""
    stretches = []
    for position, state in enumerate(states):
        start = max(state.effective_at, period.start)
        following = states[position + 1].effective_at if position + 1 < len(states) else None
        end = period.end if following is None else min(following, period.end)
        if end <= start:
            continue  # superseded before the period, at the same instant, or after its end
        if stretches and stretches[-1][2][1:] == state[1:]:
            stretches[-1][1] = end
        else:
            stretches.append([start, end, state])
    return stretches


def _fraction(part, whole):
    """``part / whole`` on a fixed grid of 24 decimal places.

    A fixed grid (far finer than any currency or second) keeps every partial
    sum of fractions exact in the default 28-digit Decimal context, so the
    fractions of a period add up to exactly 1 wherever they are summed.
    """
    return (Decimal(part) / Decimal(whole)).quantize(_FRACTION_QUANTUM).normalize()


def not_in_force_before(period: Period, changes: Sequence[tuple]) -> list[tuple]:
    """``changes``, preceded by an inactive state from the period start when the first
    one comes later: a subscription that starts inside ``period`` (activated at 10:30,
    its periods anchored at midnight) costs nothing before it starts."""
    changes = list(changes)
    if changes and utc.to_utc(changes[0][0], "change 0 effective_at") > period.start:
        changes.insert(0, StateChange(period.start, 0, Decimal(0), False))
    return changes


def proration_segments(period: Period, changes: Sequence[tuple]) -> list[Segment]:
    """Split ``period`` into segments of constant state, each with its share of the period.

    ``changes`` is a time-ordered sequence of ``(effective_at, seats, unit_price,
    active)`` (plain tuples or :class:`StateChange`); the first must be in force
    at the period start.  Changes at the same instant: the last one wins.
    Changes at or after the period end are ignored.  Consecutive changes to an
    identical state are merged so the invoice shows only real splits.
    """
    states = _coerce_changes(period, changes)
    period_seconds = seconds(period)
    segments = []
    allotted = Decimal(0)
    stretches = _constant_stretches(period, states)
    for position, (start, end, state) in enumerate(stretches):
        length = (end - start) // _ONE_SECOND
        if position == len(stretches) - 1:
            fraction = Decimal(1) - allotted
        else:
            fraction = _fraction(length, period_seconds)
            allotted += fraction
        segments.append(
            Segment(start, end, state.seats, state.unit_price, state.active, length, fraction)
        )
    return segments
