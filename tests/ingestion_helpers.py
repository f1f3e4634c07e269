"""Inputs shared by the ingestion core's tests: a batch's context, raw events, a run."""

from datetime import datetime, timezone

from usage_billing_connector.core import ingestion, payload
from usage_billing_connector.core.quarantine import ClassifyContext, TenantInfo

NOW = datetime(2026, 1, 20, tzinfo=timezone.utc)

#: A valid usage event as an integrator sends it.
USAGE_EVENT = {
    "event_id": "e-1",
    "tenant": "acme",
    "metric": "api_calls",
    "quantity": 5,
    "timestamp": "2026-01-15T10:00:00Z",
}


def context(old_state="suspended", **overrides):
    """Tenant ``acme`` active, tenant ``old`` inactive (``old_state``), metric ``api_calls``."""
    values = {
        "tenants": {"acme": TenantInfo(1, "active"), "old": TenantInfo(2, old_state)},
        "metrics": {"api_calls": 10},
        "allowed_tenant_ids": None,
        "now": NOW,
    }
    values.update(overrides)
    return ClassifyContext(**values)


def raw(event_id, **overrides):
    return {**USAGE_EVENT, "event_id": event_id, "quantity": 1, **overrides}


def run(raws, inserted=None, existing=None, **ctx):
    """``(plan, results, counts)`` of a batch; by default every planned row is inserted."""
    plan = ingestion.plan_batch(payload.parse_events(raws), context(**ctx))
    inserted = set(plan.event_ids) if inserted is None else inserted
    results, counts = ingestion.finish_batch(plan, inserted, existing or {})
    return plan, results, counts
