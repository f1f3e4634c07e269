"""Every field of the account status a CRM receives, and the health reasons a CSM reads.

``test_crm_account_status`` and ``test_crm_health`` check the score; these tests pin the
whole flat status (each key, its type and its default when the Odoo side has nothing)
and the wording of the reasons shown beside the score in the CRM.
"""

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from crm_sync_connector.core import account_status, health
from usage_billing_connector.core.numbers import NumberError

START = datetime(2026, 1, 1)
END = datetime(2026, 1, 31)


def full_input():
    return {
        "tenant": 42,
        "name": "Acme Corp",
        "currency": "EUR",
        "plan": "growth",
        "plan_name": "Growth",
        "subscription_state": "active",
        "mrr": "490.00",
        "period_start": START,
        "period_end": END,
        "now": datetime(2026, 1, 16),
        "metrics": [
            {"code": "api_calls", "used": 850, "included": 1000, "previous": 1200},
            {"code": "storage", "used": "2.5", "included": None, "previous": None},
        ],
        "last_invoice": {
            "number": "INV/2026/0001",
            "amount": 490,
            "state": "posted",
            "payment_state": "not_paid",
            "date": date(2026, 1, 1),
        },
        "overdue_amount": D("600"),
        "credit_balance": 120,
        "credit_next_expiry": date(2026, 3, 31),
    }


def test_the_status_carries_every_field_the_mapping_can_push():
    status = account_status.build_account_status(full_input())
    assert status == {
        "tenant": "42",
        "name": "Acme Corp",
        "currency": "EUR",
        "plan": "growth",
        "plan_name": "Growth",
        "subscription_state": "active",
        "mrr": D("490.00"),
        "period_start": "2026-01-01T00:00:00",
        "period_end": "2026-01-31T00:00:00",
        "last_invoice_number": "INV/2026/0001",
        "last_invoice_amount": D(490),
        "last_invoice_state": "posted",
        "last_invoice_payment_state": "not_paid",
        "last_invoice_date": "2026-01-01",
        "overdue_amount": D(600),
        "credit_balance": D(120),
        "credit_next_expiry": "2026-03-31",
        # 850 used against 1200 × 0.5 prorated: rising; 85% of the allowance; 600 > 490
        "health_score": 60,
        "health_label": "at_risk",
        "health_reasons": "overdue amount exceeds a recurring period",
        "usage": {
            "api_calls": {"used": D(850), "included": D(1000), "percent": D("85.0")},
            "storage": {"used": D("2.5"), "included": None, "percent": None},
        },
        "synced_at": "2026-01-16T00:00:00",
    }


def test_what_the_odoo_side_does_not_know_gets_neutral_defaults():
    before = datetime.now().replace(microsecond=0)
    status = account_status.build_account_status({"tenant": "acme"})
    assert {key: value for key, value in status.items() if key != "synced_at"} == {
        "tenant": "acme",
        "name": None,
        "currency": None,
        "plan": None,
        "plan_name": None,
        "subscription_state": None,
        "mrr": D(0),
        "period_start": None,
        "period_end": None,
        "last_invoice_number": None,
        "last_invoice_amount": None,
        "last_invoice_state": None,
        "last_invoice_payment_state": None,
        "last_invoice_date": None,
        "overdue_amount": D(0),
        "credit_balance": D(0),
        "credit_next_expiry": None,
        "health_score": 100,
        "health_label": "good",
        "health_reasons": "",
        "usage": {},
    }
    assert datetime.fromisoformat(status["synced_at"]) >= before


@pytest.mark.parametrize("tenant", [None, "", 0])
def test_a_status_needs_a_tenant(tenant):
    with pytest.raises(ValueError, match=r"^tenant is required$"):
        account_status.build_account_status({"tenant": tenant, "name": "x"})


def test_several_reasons_are_listed_in_order_separated_by_semicolons():
    data = {
        **full_input(),
        "metrics": [{"code": "api_calls", "used": 100, "included": 1000, "previous": 1000}],
        "overdue_amount": 10,
    }
    status = account_status.build_account_status(data)
    assert status["health_reasons"] == (
        "usage fell by more than 30%; under 20% of the included allowance used; overdue invoices"
    )
    assert (status["health_score"], status["health_label"]) == (30, "critical")


def test_a_non_date_value_is_sent_as_text():
    status = account_status.build_account_status(
        {"tenant": "t", "credit_next_expiry": "soon", "now": "2026-01-02"}
    )
    assert status["credit_next_expiry"] == "soon"
    assert status["synced_at"] == "2026-01-02"


@pytest.mark.parametrize(
    ("used", "included", "expected"),
    [(1, 8, D("12.5")), (1, 16, D("6.3")), (2, 3, D("66.7")), (0, 5, D("0.0")), (None, 5, 0)],
)
def test_percent_rounds_half_up_to_one_decimal(used, included, expected):
    assert account_status.percent(used, included) == expected


def test_the_elapsed_share_is_unknown_for_an_empty_or_reversed_period():
    assert account_status.elapsed_fraction(START, START, START) is None
    assert account_status.elapsed_fraction(END, START, START) is None
    assert account_status.elapsed_fraction(START, END, None) is None
    assert account_status.elapsed_fraction(START, None, START) is None
    assert account_status.elapsed_fraction(START, END, datetime(2026, 1, 4)) == D("0.1")


def test_the_trend_starts_at_a_tenth_of_the_period_and_sums_metrics_used_before():
    metrics = [
        {"code": "a", "used": 30, "previous": 100},
        {"code": "b", "used": 10, "previous": 300},
        {"code": "new", "used": 999},
        {"code": "c", "previous": 100},
    ]
    # (30 + 10 + 0) against (100 + 300 + 100) × 0.1
    assert account_status.prorated_trend(metrics, D("0.1")) == D("0.8")
    assert account_status.prorated_trend(metrics, D("0.0999")) is None
    assert account_status.prorated_trend(metrics, None) is None
    assert account_status.prorated_trend([], D("0.5")) is None


def test_the_best_allowance_use_is_the_highest_even_beyond_the_allowance():
    metrics = [
        {"code": "a", "used": 300, "included": 100},
        {"code": "b", "used": 0, "included": 100},
    ]
    assert account_status.best_allowance_use(metrics) == 3
    assert account_status.best_allowance_use([]) is None


@pytest.mark.parametrize(
    ("trend", "adoption", "overdue", "recurring", "factors"),
    [
        (D("0.69"), None, 0, 100, [("usage fell by more than 30%", -30)]),
        (D("0.7"), None, 0, 100, [("usage fell by more than 10%", -15)]),
        (None, D("0.19"), 0, 100, [("under 20% of the included allowance used", -20)]),
        (None, None, D(101), D(100), [("overdue amount exceeds a recurring period", -40)]),
        (None, None, D(5), None, [("overdue amount exceeds a recurring period", -40)]),
        (None, None, D(100), D(100), [("overdue invoices", -20)]),
        (D("0.9"), D("0.2"), 0, 0, []),
    ],
)
def test_each_factor_says_what_it_penalises(trend, adoption, overdue, recurring, factors):
    assert health.health_factors(trend, adoption, overdue, recurring) == factors


def test_usage_trend_and_allowance_use_are_plain_ratios():
    assert health.usage_trend(50, 200) == D("0.25")
    assert health.usage_trend(None, 200) == 0
    assert health.usage_trend(50, 0) is None
    assert health.usage_trend(50, None) is None
    assert health.allowance_use(None, 4) == 0
    assert health.allowance_use(1, 4) == D("0.25")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: health.usage_trend(-1, 10), "current_usage"),
        (lambda: health.usage_trend(1, -10), "previous_usage"),
        (lambda: health.allowance_use(-1, 10), "used"),
        (lambda: health.allowance_use(1, -10), "included"),
        (lambda: health.health_score(D(-1), None, 0, 0), "usage_trend"),
        (lambda: health.health_score(None, D(-1), 0, 0), "allowance_use"),
        (lambda: health.health_score(None, None, -1, 0), "overdue_amount"),
        (lambda: health.health_score(None, None, 0, -1), "recurring_amount"),
    ],
)
def test_a_negative_input_is_refused_naming_it(call, field):
    with pytest.raises(NumberError, match=f"^{field} must not be negative"):
        call()


def test_a_metric_reported_without_usage_counts_zero():
    status = account_status.build_account_status(
        {"tenant": "t", "metrics": [{"code": "new", "included": 10}]}
    )
    assert status["usage"] == {"new": {"used": D(0), "included": D(10), "percent": D("0.0")}}
