"""Which valid events are quarantined instead of accepted, and why.

Quarantined events are stored (nothing is lost) with a reason, then fixed in the
UI (map the tenant, create the metric, allow the key) and reprocessed.
"""

from dataclasses import dataclass
from datetime import timedelta

FUTURE_TOLERANCE = timedelta(days=1)

REASONS = {
    "unknown_tenant": "No tenant with this external id in the key's company.",
    "unknown_metric": "No metric with this code in the key's company.",
    "tenant_not_allowed": "This API key may not send usage for this tenant.",
    "tenant_inactive": "The tenant is suspended or closed.",
    "future_timestamp": "The timestamp is more than one day in the future.",
    "period_invoiced": "The usage falls in a period that is already invoiced.",
    "no_subscription": "The tenant has no subscription in force at that time.",
    "period_compacted": "The usage falls in a period whose raw events were compacted.",
}


@dataclass(frozen=True)
class TenantInfo:
    id: int
    state: str


@dataclass(frozen=True)
class Verdict:
    state: str  # "accepted" | "quarantined"
    reason: str | None = None
    tenant_id: int | None = None
    metric_id: int | None = None

    @property
    def message(self):
        return REASONS.get(self.reason) if self.reason else None


def classify(tenant_ref, metric_code, occurred_at, context):
    """Decide the fate of one event from lookups done once per batch.

    ``context`` carries ``tenants`` (external id -> TenantInfo), ``metrics``
    (code -> id), ``allowed_tenant_ids`` (None = all), ``now`` (aware UTC) and
    ``is_closed`` (callable(tenant_id, occurred_at) -> reason or None) for the
    billing rules that know about invoiced periods and subscriptions.
    """
    tenant = context.tenants.get(tenant_ref)
    metric_id = context.metrics.get(metric_code)
    ids = {"tenant_id": tenant.id if tenant else None, "metric_id": metric_id}
    reason = None
    if tenant is None:
        reason = "unknown_tenant"
    elif metric_id is None:
        reason = "unknown_metric"
    elif context.allowed_tenant_ids is not None and tenant.id not in context.allowed_tenant_ids:
        reason = "tenant_not_allowed"
    elif tenant.state != "active":
        reason = "tenant_inactive"
    elif occurred_at - context.now > FUTURE_TOLERANCE:
        reason = "future_timestamp"
    elif context.is_closed is not None:
        reason = context.is_closed(tenant.id, occurred_at)
    if reason:
        return Verdict("quarantined", reason, **ids)
    return Verdict("accepted", **ids)


@dataclass
class ClassifyContext:
    tenants: dict
    metrics: dict
    allowed_tenant_ids: frozenset | None
    now: object
    is_closed: object = None
