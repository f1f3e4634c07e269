"""Account health score pushed to the CRM: 0 (about to churn) .. 100 (healthy).

Deliberately simple and explainable, so that a customer-success manager can
tell from the CRM why an account is flagged.  Start at 100 and subtract:

=========================  ===============================================  =======
signal                     condition                                        points
=========================  ===============================================  =======
usage trend                ``current / previous`` period usage < 0.7          -30
                           (usage fell by more than 30 %)
                           < 0.9 (fell by more than 10 %)                     -15
low adoption               allowance use < 0.2 (under 20 % of included)       -20
overdue invoices           ``overdue / recurring`` > 1 (more than a period)   -40
                           > 0 (anything overdue)                             -20
=========================  ===============================================  =======

* Rising usage and any allowance use from 20 % up (80 % and more is healthy
  adoption, over 100 % an expansion signal for sales) subtract nothing: the score
  measures risk, so there is no bonus.
* An unknown input (``None``: no previous period, no allowance in the plan) is
  neutral.  With nothing recurring (``recurring_amount`` 0 or ``None``), any
  overdue amount counts as more than a period (-40).
* The result is clamped to 0..100 (the table cannot go below 10 today; the clamp
  keeps that true if points change).

Labels (``health_label``): ``good`` at 75 and above, ``at_risk`` from 40 to 74,
``critical`` under 40.  One signal alone never makes an account critical: the
worst (overdue more than a period, -40) gives 60 and a usage drop over 30 % gives
70, both ``at_risk``; a milder drop, low adoption or a small overdue alone stay
``good`` (80-85).  Two signals together are at least ``at_risk``.
"""

from decimal import Decimal

from .usage_core import numbers

USAGE_DROP_SEVERE = Decimal("0.7")
USAGE_DROP_MILD = Decimal("0.9")
LOW_ADOPTION = Decimal("0.2")

POINTS_USAGE_DROP_SEVERE = 30
POINTS_USAGE_DROP_MILD = 15
POINTS_LOW_ADOPTION = 20
POINTS_OVERDUE_OVER_PERIOD = 40
POINTS_OVERDUE = 20

GOOD_FROM = 75
AT_RISK_FROM = 40

GOOD = "good"
AT_RISK = "at_risk"
CRITICAL = "critical"


def _decimal(value, name):
    """``None`` (unknown) or a finite, non-negative Decimal."""
    return None if value is None else numbers.to_non_negative(value, name)


def usage_trend(current_usage, previous_usage):
    """``current / previous`` period usage, ``None`` when there is no previous usage."""
    current = _decimal(current_usage, "current_usage") or Decimal(0)
    previous = _decimal(previous_usage, "previous_usage")
    if not previous:
        return None
    return current / previous


def allowance_use(used, included):
    """Fraction of the included allowance used, ``None`` when the plan includes none."""
    used = _decimal(used, "used") or Decimal(0)
    included = _decimal(included, "included")
    if not included:
        return None
    return used / included


def _usage_penalty(trend):
    if trend is None:
        return None
    if trend < USAGE_DROP_SEVERE:
        return ("usage fell by more than 30%", -POINTS_USAGE_DROP_SEVERE)
    if trend < USAGE_DROP_MILD:
        return ("usage fell by more than 10%", -POINTS_USAGE_DROP_MILD)
    return None


def _adoption_penalty(use):
    if use is not None and use < LOW_ADOPTION:
        return ("under 20% of the included allowance used", -POINTS_LOW_ADOPTION)
    return None


def _overdue_penalty(overdue, recurring):
    if not overdue:
        return None
    if not recurring or overdue > recurring:
        return ("overdue amount exceeds a recurring period", -POINTS_OVERDUE_OVER_PERIOD)
    return ("overdue invoices", -POINTS_OVERDUE)


def health_factors(usage_trend, allowance_use, overdue_amount, recurring_amount):
    """The ``(reason, points)`` pairs that make up the score, for display in the CRM."""
    penalties = (
        _usage_penalty(_decimal(usage_trend, "usage_trend")),
        _adoption_penalty(_decimal(allowance_use, "allowance_use")),
        _overdue_penalty(
            _decimal(overdue_amount, "overdue_amount"),
            _decimal(recurring_amount, "recurring_amount"),
        ),
    )
    return [penalty for penalty in penalties if penalty]


def health_score(usage_trend, allowance_use, overdue_amount, recurring_amount):
    """Score 0..100 (formula in the module docstring)."""
    factors = health_factors(usage_trend, allowance_use, overdue_amount, recurring_amount)
    return max(0, min(100, 100 + sum(points for _reason, points in factors)))


def health_label(score):
    """``good`` / ``at_risk`` / ``critical`` for a score."""
    if score >= GOOD_FROM:
        return GOOD
    if score >= AT_RISK_FROM:
        return AT_RISK
    return CRITICAL
