from datetime import datetime, timedelta

import pytest

from usage_billing_connector.core.subscription_history import (
    Change,
    State,
    apply,
    current,
    ordered,
    replay,
)

T0 = datetime(2026, 3, 1)


def day(n):
    return T0 + timedelta(days=n)


def test_first_change_needs_a_plan_and_a_state():
    with pytest.raises(ValueError):
        apply(None, Change(T0, 1, seats=3))
    with pytest.raises(ValueError):
        apply(None, Change(T0, 1, plan="basic"))
    assert apply(None, Change(T0, 1, plan="basic", state="active")) == State("basic", 1, "active")


def test_state_follows_the_latest_effective_change_not_the_last_received():
    activation = Change(day(0), 1, plan="basic", seats=2, state="active")
    fifty = Change(day(9), 2, seats=50)  # received second
    forty = Change(day(5), 3, seats=40)  # received last, effective earlier
    assert current([activation, fifty, forty]).seats == 50
    assert [state.seats for _change, state in replay([fifty, forty, activation])] == [2, 40, 50]


def test_every_later_segment_keeps_its_own_values():
    history = [
        Change(day(0), 1, plan="basic", seats=2, state="active"),
        Change(day(10), 2, seats=5),
        Change(day(5), 3, plan="pro"),  # late plan change
        Change(day(7), 4, state="suspended"),  # late suspension
    ]
    assert [state for _change, state in replay(history)] == [
        State("basic", 2, "active"),
        State("pro", 2, "active"),
        State("pro", 2, "suspended"),
        State("pro", 5, "suspended"),
    ]


def test_same_instant_changes_apply_in_arrival_order():
    history = [
        Change(day(0), 1, plan="basic", state="active"),
        Change(day(3), 5, seats=9),
        Change(day(3), 4, seats=7),
    ]
    assert [c.sequence for c in ordered(history)] == [1, 4, 5]
    assert current(history).seats == 9


def test_cancellation_is_final_and_keeps_its_instant():
    history = [
        Change(day(0), 1, plan="basic", state="active"),
        Change(day(8), 2, state="active"),  # a reactivation received before the late cancel
        Change(day(4), 3, state="cancelled"),
        Change(day(6), 4, seats=3),
        Change(day(2), 5, state="cancelled"),  # an even earlier cancellation arrives later
    ]
    final = current(history)
    assert (final.state, final.cancelled_at, final.seats) == ("cancelled", day(2), 3)
    states = [state.state for _change, state in replay(history)]
    assert states == ["active", "cancelled", "cancelled", "cancelled", "cancelled"]


def test_no_changes_no_state():
    assert current([]) is None
    assert replay([]) == []


def test_a_change_without_a_plan_keeps_the_plan_and_one_with_a_plan_changes_it():
    active = apply(None, Change(T0, 1, plan="basic", state="active"))
    assert apply(active, Change(day(1), 2, seats=4)).plan == "basic"
    assert apply(active, Change(day(1), 2, plan="pro")).plan == "pro"
    cancelled = apply(active, Change(day(2), 3, state="cancelled"))
    assert apply(cancelled, Change(day(3), 4, seats=9)).plan == "basic"
    assert apply(cancelled, Change(day(3), 4, plan="pro")).plan == "pro"


def test_a_history_without_a_first_plan_and_state_says_so():
    with pytest.raises(
        ValueError, match=r"^the first change of a history must set a plan and a state$"
    ):
        apply(None, Change(T0, 1, seats=3))
