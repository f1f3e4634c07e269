from datetime import date

import pytest

from usage_billing_connector.core import dunning

POLICY = [dunning.Step(n, *row) for n, row in enumerate(dunning.DEFAULT_STEPS)]
DUE = date(2026, 3, 1)


def keys(steps):
    return [(s.trigger, s.days, s.action) for s in steps]


def test_nothing_is_due_before_the_due_date():
    decision = dunning.due_steps(POLICY, today=date(2026, 2, 28), due_date=DUE)
    assert decision.run == () and decision.skip == ()


def test_reminders_follow_the_due_date_without_a_failed_charge():
    decision = dunning.due_steps(POLICY, today=date(2026, 3, 2), due_date=DUE)
    assert keys(decision.run) == [("due", 1, "reminder")]
    # Retries need a failed charge: an invoice never charged gets none.
    later = dunning.due_steps(POLICY, today=date(2026, 3, 9), due_date=DUE, done={1})
    assert "retry" not in [s.action for s in later.run + later.skip]


def test_retries_follow_the_first_failed_charge():
    failed = date(2026, 3, 1)
    run = dunning.due_steps(POLICY, today=date(2026, 3, 2), due_date=DUE, failed_on=failed).run
    assert keys(run) == [("failed_charge", 1, "retry"), ("due", 1, "reminder")]
    run = dunning.due_steps(
        POLICY, today=date(2026, 3, 4), due_date=DUE, failed_on=failed, done={0, 1}
    ).run
    assert keys(run) == [("failed_charge", 3, "retry"), ("due", 3, "reminder")]


def test_each_step_runs_once():
    done = {step.key for step in POLICY}
    decision = dunning.due_steps(POLICY, today=date(2026, 4, 1), due_date=DUE, done=done)
    assert decision.run == () and decision.skip == ()


def test_a_late_cron_runs_the_last_step_of_each_action_and_skips_the_rest():
    decision = dunning.due_steps(
        POLICY, today=date(2026, 3, 15), due_date=DUE, failed_on=date(2026, 3, 1)
    )
    assert keys(decision.run) == [
        ("failed_charge", 7, "retry"),
        ("due", 7, "reminder"),
        ("due", 14, "suspend"),
    ]
    assert keys(decision.skip) == [
        ("failed_charge", 1, "retry"),
        ("due", 1, "reminder"),
        ("failed_charge", 3, "retry"),
        ("due", 3, "reminder"),
    ]


def test_suspension_at_fourteen_days_overdue():
    done = {0, 1, 2, 3, 4, 5}
    decision = dunning.due_steps(POLICY, today=date(2026, 3, 14), due_date=DUE, done=done)
    assert decision.run == ()
    decision = dunning.due_steps(POLICY, today=date(2026, 3, 15), due_date=DUE, done=done)
    assert keys(decision.run) == [("due", 14, "suspend")]


def test_steps_are_validated_and_overdue_days_counted():
    with pytest.raises(ValueError):
        dunning.Step(1, 10, "whenever", 1, "retry")
    with pytest.raises(ValueError):
        dunning.Step(1, 10, "due", 1, "shout")
    with pytest.raises(ValueError):
        dunning.Step(1, 10, "due", -1, "retry")
    with pytest.raises(ValueError):
        dunning.due_steps(POLICY, today="2026-03-01", due_date=DUE)
    assert dunning.days_overdue(DUE, date(2026, 3, 15)) == 14
    assert dunning.days_overdue(DUE, date(2026, 2, 1)) == 0
    assert dunning.days_overdue(None, date(2026, 2, 1)) == 0


def test_of_two_due_steps_of_one_action_the_one_due_later_runs_even_if_listed_first():
    policy = [
        dunning.Step("late", 10, "failed_charge", 7, "retry"),
        dunning.Step("early", 20, "due", 1, "retry"),
    ]
    today = date(2026, 3, 10)
    decision = dunning.due_steps(
        policy, today=today, due_date=date(2026, 3, 7), failed_on=date(2026, 3, 3)
    )
    assert [s.key for s in decision.run] == ["late"]  # due Mar 10, the other Mar 8
    assert [s.key for s in decision.skip] == ["early"]


def test_steps_of_one_action_due_the_same_day_at_the_same_sequence_keep_the_last_listed():
    policy = [
        dunning.Step("charge+1", 10, "failed_charge", 1, "retry"),
        dunning.Step("due+3", 10, "due", 3, "retry"),
    ]
    decision = dunning.due_steps(
        policy, today=date(2026, 3, 4), due_date=DUE, failed_on=date(2026, 3, 3)
    )
    assert [s.key for s in decision.run] == ["due+3"]
    assert [s.key for s in decision.skip] == ["charge+1"]


def test_a_refused_step_or_day_says_why():
    with pytest.raises(ValueError, match=r"^today must be a date$"):
        dunning.due_steps(POLICY, today=None, due_date=DUE)
    with pytest.raises(ValueError, match=r"^days cannot be negative$"):
        dunning.Step(1, 10, "due", -1, "retry")
    with pytest.raises(ValueError, match=r"^trigger must be one of \('due', 'failed_charge'\)"):
        dunning.Step(1, 10, "whenever", 1, "retry")
    with pytest.raises(ValueError, match=r"^action must be one of \('retry', 'reminder', 'susp"):
        dunning.Step(1, 10, "due", 1, "shout")
