"""The account status pushed to a CRM, built from plain data (no Odoo).

``build_account_status(data)`` takes what the Odoo side collected for one tenant
as plain dicts and numbers and returns a flat dict keyed by *our* keys (the keys
of ``mapping.STATUS_KEYS``); ``mapping.apply_mapping`` then renames them to the
CRM's properties.

Input (every key optional except ``tenant``)::

    {
        "tenant": "acme", "name": "Acme Corp", "currency": "EUR",
        "plan": "growth", "plan_name": "Growth", "subscription_state": "active",
        "mrr": Decimal("490"), "period_start": datetime, "period_end": datetime,
        "now": datetime,            # to know how much of the period has elapsed
        "metrics": [{"code": "api_calls", "used": 850, "included": 1000,
                     "previous": 1200}],
        "last_invoice": {"number": "INV/2026/0001", "amount": Decimal("490"),
                         "state": "posted", "payment_state": "not_paid",
                         "date": date},
        "overdue_amount": Decimal("0"),
        "credit_balance": Decimal("120"),   # prepaid credit available now
        "credit_next_expiry": date,         # next day some of it expires (or None)
    }

Health inputs (see ``health``):

* usage trend: current-period usage divided by the previous period's usage
  *prorated to the elapsed part of the current period* (otherwise every account
  would look like it is dropping at the start of a period), summed over metrics
  that had usage in the previous period;
* allowance use: the highest use among metrics that include an allowance (an
  account using one feature fully is adopting the product);
* overdue amount versus the recurring amount (MRR).
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from . import health
from .usage_core import numbers

#: Below this share of a period elapsed, the trend is not computed (too noisy).
MIN_ELAPSED_FOR_TREND = Decimal("0.1")


def percent(used, included):
    """``used`` as a percentage of ``included``, one decimal; ``None`` without allowance."""
    use = health.allowance_use(used, included)
    if use is None:
        return None
    return (use * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def elapsed_fraction(period_start, period_end, now):
    """Share (0..1) of the period elapsed at ``now``; ``None`` when unknown."""
    if not (period_start and period_end and now) or period_end <= period_start:
        return None
    total = (period_end - period_start).total_seconds()
    done = (min(max(now, period_start), period_end) - period_start).total_seconds()
    return Decimal(str(done / total))


def prorated_trend(metrics, fraction):
    """Usage trend with the previous period prorated to ``fraction`` (see module doc)."""
    if fraction is None or fraction < MIN_ELAPSED_FOR_TREND:
        return None
    current = previous = Decimal(0)
    for metric in metrics:
        before = numbers.to_optional_decimal(metric.get("previous"))
        if not before:
            continue
        previous += before
        current += numbers.to_optional_decimal(metric.get("used")) or Decimal(0)
    if not previous:
        return None
    return health.usage_trend(current, previous * fraction)


def best_allowance_use(metrics):
    """Highest allowance use among metrics with an allowance, ``None`` if none has one."""
    uses = [
        use
        for use in (health.allowance_use(m.get("used"), m.get("included")) for m in metrics)
        if use is not None
    ]
    return max(uses) if uses else None


def _iso(value):
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def build_account_status(data):
    """Flat status dict (our keys) for one tenant; see the module docstring."""
    if not data.get("tenant"):
        raise ValueError("tenant is required")
    metrics = data.get("metrics") or []
    mrr = numbers.to_optional_decimal(data.get("mrr")) or Decimal(0)
    overdue = numbers.to_optional_decimal(data.get("overdue_amount")) or Decimal(0)
    fraction = elapsed_fraction(data.get("period_start"), data.get("period_end"), data.get("now"))
    trend = prorated_trend(metrics, fraction)
    adoption = best_allowance_use(metrics)
    factors = health.health_factors(trend, adoption, overdue, mrr)
    score = health.health_score(trend, adoption, overdue, mrr)
    invoice = data.get("last_invoice") or {}
    status = {
        "tenant": str(data["tenant"]),
        "name": data.get("name"),
        "currency": data.get("currency"),
        "plan": data.get("plan"),
        "plan_name": data.get("plan_name"),
        "subscription_state": data.get("subscription_state"),
        "mrr": mrr,
        "period_start": _iso(data.get("period_start")),
        "period_end": _iso(data.get("period_end")),
        "last_invoice_number": invoice.get("number"),
        "last_invoice_amount": numbers.to_optional_decimal(invoice.get("amount")),
        "last_invoice_state": invoice.get("state"),
        "last_invoice_payment_state": invoice.get("payment_state"),
        "last_invoice_date": _iso(invoice.get("date")),
        "overdue_amount": overdue,
        "credit_balance": numbers.to_optional_decimal(data.get("credit_balance")) or Decimal(0),
        "credit_next_expiry": _iso(data.get("credit_next_expiry")),
        "health_score": score,
        "health_label": health.health_label(score),
        "health_reasons": "; ".join(reason for reason, _points in factors),
        "usage": {
            m["code"]: {
                "used": numbers.to_optional_decimal(m.get("used")) or Decimal(0),
                "included": numbers.to_optional_decimal(m.get("included")),
                "percent": percent(m.get("used"), m.get("included")),
            }
            for m in metrics
        },
        "synced_at": _iso(data.get("now") or datetime.now()),
    }
    return status
