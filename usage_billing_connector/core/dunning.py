"""Which dunning steps are due for an unpaid invoice: plain decisions, no Odoo.

A policy is an ordered list of steps; each step runs ``days`` after its anchor:

* ``due``: the invoice's due date;
* ``failed_charge``: the day the first automatic charge of the invoice failed
  (no such step runs for an invoice that was never charged).

A step runs once per invoice (the caller keeps a log, unique per invoice and
step).  When the cron was late and several steps of the same action are due
at once, only the last of them runs and the earlier ones are *skipped*: three
charge retries or three reminders in a row would help nobody.  A suspension
runs whatever else is due.
"""

from dataclasses import dataclass
from datetime import date, timedelta

DUE, FAILED_CHARGE = "due", "failed_charge"
RETRY, REMINDER, SUSPEND = "retry", "reminder", "suspend"
TRIGGERS = (DUE, FAILED_CHARGE)
ACTIONS = (RETRY, REMINDER, SUSPEND)

#: The default policy: charge retries 1, 3 and 7 days after a failed charge,
#: reminders 1, 3 and 7 days after the due date, suspension at 14 days overdue.
DEFAULT_STEPS = (
    (10, FAILED_CHARGE, 1, RETRY),
    (20, DUE, 1, REMINDER),
    (30, FAILED_CHARGE, 3, RETRY),
    (40, DUE, 3, REMINDER),
    (50, FAILED_CHARGE, 7, RETRY),
    (60, DUE, 7, REMINDER),
    (70, DUE, 14, SUSPEND),
)


@dataclass(frozen=True)
class Step:
    key: object  # the caller's step id
    sequence: int
    trigger: str
    days: int
    action: str

    def __post_init__(self):
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {TRIGGERS}, got {self.trigger!r}")
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {self.action!r}")
        if self.days < 0:
            raise ValueError("days cannot be negative")


@dataclass(frozen=True)
class Decision:
    run: tuple  # steps to run now, in policy order
    skip: tuple  # steps overtaken by a later step of the same action


def step_date(step, due_date, failed_on):
    """The day ``step`` becomes due, ``None`` when its anchor is unknown."""
    anchor = due_date if step.trigger == DUE else failed_on
    if anchor is None:
        return None
    return anchor + timedelta(days=step.days)


def due_steps(steps, *, today, due_date, failed_on=None, done=()):
    """The steps to run (and to skip) today for one unpaid invoice.

    ``steps``: the policy (any order); ``done``: keys of the steps already
    logged for this invoice; ``failed_on``: date of the first failed charge.
    """
    if not isinstance(today, date):
        raise ValueError("today must be a date")
    done = set(done)
    ordered = sorted(steps, key=lambda s: (s.sequence, s.days))
    ready = []
    for step in ordered:
        when = step_date(step, due_date, failed_on)
        if step.key in done or when is None or when > today:
            continue
        ready.append((when, step))
    last_of_action = {}
    for when, step in ready:
        previous = last_of_action.get(step.action)
        if previous is None or (when, step.sequence) >= previous[0]:
            last_of_action[step.action] = ((when, step.sequence), step)
    run_keys = {step.key for _order, step in last_of_action.values()}
    run = tuple(step for _when, step in ready if step.key in run_keys)
    skip = tuple(step for _when, step in ready if step.key not in run_keys)
    return Decision(run=run, skip=skip)


def days_overdue(due_date, today):
    """Whole days past the due date (0 on or before it)."""
    if due_date is None:
        return 0
    return max((today - due_date).days, 0)
