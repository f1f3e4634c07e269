from datetime import datetime
from decimal import Decimal

import pytest

from crm_sync_connector.core.account_status import (
    best_allowance_use,
    build_account_status,
    elapsed_fraction,
    percent,
    prorated_trend,
)

START = datetime(2026, 1, 1)
END = datetime(2026, 1, 31)
MID = datetime(2026, 1, 16)


def data(**extra):
    base = {
        "tenant": "acme",
        "name": "Acme",
        "plan": "growth",
        "mrr": Decimal("100"),
        "period_start": START,
        "period_end": END,
        "now": MID,
        "metrics": [{"code": "api_calls", "used": 500, "included": 1000, "previous": 1000}],
    }
    base.update(extra)
    return base


def test_percent_and_no_allowance():
    assert percent(850, 1000) == Decimal("85.0")
    assert percent(1, 3) == Decimal("33.3")
    assert percent(5, 0) is None
    assert percent(5, None) is None


def test_elapsed_fraction_is_clamped_and_unknown_without_dates():
    assert elapsed_fraction(START, END, MID) == Decimal("0.5")
    assert elapsed_fraction(START, END, datetime(2027, 1, 1)) == 1
    assert elapsed_fraction(START, END, datetime(2025, 1, 1)) == 0
    assert elapsed_fraction(None, END, MID) is None


def test_trend_is_prorated_to_the_elapsed_period():
    metrics = [{"code": "a", "used": 500, "previous": 1000}]
    assert prorated_trend(metrics, Decimal("0.5")) == 1
    assert prorated_trend(metrics, Decimal("0.05")) is None  # too early to tell
    assert prorated_trend([{"code": "a", "used": 5, "previous": 0}], Decimal("0.5")) is None


def test_best_allowance_use_ignores_metrics_without_allowance():
    metrics = [
        {"code": "a", "used": 10, "included": 100},
        {"code": "b", "used": 90, "included": 100},
        {"code": "c", "used": 1000, "included": 0},
    ]
    assert best_allowance_use(metrics) == Decimal("0.9")
    assert best_allowance_use([{"code": "c", "used": 3}]) is None


def test_healthy_account():
    status = build_account_status(data())
    assert status["health_score"] == 100
    assert status["health_label"] == "good"
    assert status["health_reasons"] == ""
    assert status["usage"]["api_calls"] == {
        "used": Decimal(500),
        "included": Decimal(1000),
        "percent": Decimal("50.0"),
    }
    assert status["period_start"] == "2026-01-01T00:00:00"


def test_dropping_usage_and_overdue_make_it_critical():
    metrics = [{"code": "api_calls", "used": 100, "included": 1000, "previous": 1000}]
    status = build_account_status(data(metrics=metrics, overdue_amount=Decimal("250")))
    # trend 0.2 (-30), adoption 0.1 (-20), overdue > MRR (-40)
    assert status["health_score"] == 10
    assert status["health_label"] == "critical"
    assert "overdue" in status["health_reasons"]


def test_last_invoice_is_flattened():
    invoice = {"number": "INV/1", "amount": "12.50", "state": "posted", "payment_state": "paid"}
    status = build_account_status(data(last_invoice=invoice))
    assert status["last_invoice_number"] == "INV/1"
    assert status["last_invoice_amount"] == Decimal("12.50")
    assert status["last_invoice_payment_state"] == "paid"


def test_tenant_is_required():
    with pytest.raises(ValueError):
        build_account_status({"name": "x"})
