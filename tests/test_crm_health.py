"""Account health score (crm_sync_connector.core.health): the formula is pinned here."""

from decimal import Decimal as D

import pytest

from crm_sync_connector.core.health import (
    allowance_use,
    health_factors,
    health_label,
    health_score,
    usage_trend,
)


@pytest.mark.parametrize(
    ("trend", "allowance", "overdue", "recurring", "score"),
    [
        # nothing known, nothing wrong
        (None, None, D(0), D(0), 100),
        (D("1.0"), D("0.85"), D(0), D(100), 100),
        # usage trend
        (D("1.5"), None, 0, 100, 100),  # growth: no bonus, already at 100
        (D("0.95"), None, 0, 100, 100),  # -5 %: noise
        (D("0.9"), None, 0, 100, 100),  # exactly -10 %: not "more than 10 %"
        (D("0.89"), None, 0, 100, 85),
        (D("0.7"), None, 0, 100, 85),  # exactly -30 %: still the mild band
        (D("0.69"), None, 0, 100, 70),
        (D("0"), None, 0, 100, 70),  # usage stopped
        # allowance use
        (None, D("1.4"), 0, 100, 100),  # over allowance: expansion signal, no penalty
        (None, D("0.8"), 0, 100, 100),
        (None, D("0.5"), 0, 100, 100),
        (None, D("0.2"), 0, 100, 100),  # exactly 20 %: adopted enough
        (None, D("0.19"), 0, 100, 80),
        (None, D("0"), 0, 100, 80),
        # overdue against recurring
        (None, None, D("0.01"), D(100), 80),
        (None, None, D(100), D(100), 80),  # exactly one period: "> 1" not reached
        (None, None, D("100.01"), D(100), 60),
        (None, None, D(50), D(0), 60),  # nothing recurring: any overdue is a lot
        (None, None, D(50), None, 60),
        # combinations
        (D("0.8"), D("0.1"), 0, 100, 65),
        (D("0.5"), None, D(300), D(100), 30),
        (D("0.5"), D("0.1"), D(300), D(100), 10),  # worst case
        (D("0.85"), D("0.1"), D(10), D(100), 45),
    ],
)
def test_health_score_formula(trend, allowance, overdue, recurring, score):
    assert health_score(trend, allowance, overdue, recurring) == score


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (100, "good"),
        (75, "good"),
        (74, "at_risk"),
        (40, "at_risk"),
        (39, "critical"),
        (0, "critical"),
    ],
)
def test_health_label_boundaries(score, label):
    assert health_label(score) == label


def test_one_signal_alone_never_makes_an_account_critical():
    worst_single = [
        health_score(D("0"), None, 0, 100),
        health_score(None, D("0"), 0, 100),
        health_score(None, None, D(1000), D(1)),
    ]
    assert all(health_label(score) != "critical" for score in worst_single)
    assert health_label(health_score(D("0.5"), None, D(300), D(100))) == "critical"


def test_score_accepts_ints_and_floats_exactly():
    assert health_score(0.89, 0.19, 1, 100) == 45
    assert health_score(0.7, None, 0, 100) == 85  # float 0.7 is not read as 0.69999...


def test_factors_explain_the_score():
    factors = health_factors(D("0.5"), D("0.1"), D(300), D(100))
    assert factors == [
        ("usage fell by more than 30%", -30),
        ("under 20% of the included allowance used", -20),
        ("overdue amount exceeds a recurring period", -40),
    ]
    assert health_factors(None, None, 0, 0) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"usage_trend": D("-0.1")},
        {"allowance_use": "lots"},
        {"overdue_amount": D("NaN")},
        {"recurring_amount": D(-5)},
    ],
)
def test_invalid_inputs_are_rejected(kwargs):
    arguments = {"usage_trend": None, "allowance_use": None, "overdue_amount": 0}
    arguments.update({"recurring_amount": 100, **kwargs})
    with pytest.raises(ValueError):
        health_score(**arguments)


def test_usage_trend_helper():
    assert usage_trend(D(80), D(100)) == D("0.8")
    assert usage_trend(D(0), D(100)) == 0
    assert usage_trend(D(50), D(0)) is None  # no previous usage: unknown, not infinite
    assert usage_trend(D(50), None) is None


def test_allowance_use_helper():
    assert allowance_use(D(150), D(1000)) == D("0.15")
    assert allowance_use(None, D(1000)) == 0
    assert allowance_use(D(10), D(0)) is None  # plan without allowance
    assert allowance_use(D(10), None) is None
