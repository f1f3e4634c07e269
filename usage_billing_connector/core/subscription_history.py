"""A subscription's state over time, replayed from its lifecycle changes.

Each change records only what it *asks for* (a plan, a seat count, a state);
the state in force after it is the fold of every change up to it, taken in the
order of ``effective_at`` (then of arrival, for changes at the same instant).
So a change that arrives late takes its place in the history and every later
change keeps its own values: the subscription's current state is always the
state after its latest *effective* change, whatever order the changes were
received in.

A cancellation is final: changes after it still record what they asked for,
but the state stays ``cancelled`` and ``cancelled_at`` is the first
cancellation's instant.
"""

from dataclasses import dataclass, replace
from datetime import datetime

CANCELLED = "cancelled"


@dataclass(frozen=True)
class Change:
    """What one lifecycle change asks for; ``None`` leaves that part unchanged."""

    effective_at: datetime
    sequence: int  # arrival order, breaks ties at the same instant
    plan: object = None  # the caller's plan key
    seats: int | None = None
    state: str | None = None


@dataclass(frozen=True)
class State:
    """The subscription as it stands after a change."""

    plan: object
    seats: int
    state: str
    cancelled_at: datetime | None = None


def ordered(changes):
    """``changes`` in the order they take effect."""
    return sorted(changes, key=lambda change: (change.effective_at, change.sequence))


def apply(state, change):
    """The state after ``change``; ``state`` is ``None`` before the first change."""
    if state is None:
        if change.plan is None or change.state is None:
            raise ValueError("the first change of a history must set a plan and a state")
        return State(change.plan, 1 if change.seats is None else change.seats, change.state)
    if state.state == CANCELLED:
        return replace(
            state,
            plan=state.plan if change.plan is None else change.plan,
            seats=state.seats if change.seats is None else change.seats,
        )
    new = replace(
        state,
        plan=state.plan if change.plan is None else change.plan,
        seats=state.seats if change.seats is None else change.seats,
        state=state.state if change.state is None else change.state,
    )
    if new.state == CANCELLED:
        new = replace(new, cancelled_at=change.effective_at)
    return new


def replay(changes):
    """``[(change, state after it)]`` in effective order."""
    states, state = [], None
    for change in ordered(changes):
        state = apply(state, change)
        states.append((change, state))
    return states


def current(changes):
    """The state after the latest effective change (``None`` without changes)."""
    states = replay(changes)
    return states[-1][1] if states else None
