"""Validation of subscription lifecycle events (``/usage_billing/v1/subscription_events``)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from .payload import MAX_EVENT_ID_LENGTH, Rejection, parse_timestamp

TYPES = ("activated", "plan_changed", "seats_changed", "suspended", "reactivated", "cancelled")
NEEDS_PLAN = ("activated", "plan_changed")
NEEDS_SEATS = ("seats_changed",)


@dataclass(frozen=True)
class LifecycleEvent:
    event_id: str
    tenant: str
    type: str
    plan: str | None
    seats: int | None
    effective_at: datetime  # aware, UTC

    @property
    def payload_hash(self):
        canonical = json.dumps(
            [
                self.event_id,
                self.tenant,
                self.type,
                self.plan,
                self.seats,
                self.effective_at.isoformat(),
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _reject(raw, code, message):
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    return Rejection(event_id if isinstance(event_id, str) else None, code, message)


def parse_lifecycle_event(raw):
    if not isinstance(raw, dict):
        return _reject(raw, "invalid_event", "Each event must be a JSON object.")
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID_LENGTH:
        return _reject(raw, "invalid_event_id", "event_id must be a string of 1 to 128 characters.")
    tenant = raw.get("tenant")
    if not isinstance(tenant, str) or not tenant.strip():
        return _reject(raw, "missing_field", "tenant is required (a non-empty string).")
    kind = raw.get("type")
    if kind not in TYPES:
        return _reject(raw, "invalid_type", f"type must be one of {', '.join(TYPES)}.")
    plan = raw.get("plan")
    if kind in NEEDS_PLAN and (not isinstance(plan, str) or not plan):
        return _reject(raw, "missing_field", f"plan is required for {kind}.")
    seats = raw.get("seats")
    if seats is not None and (isinstance(seats, bool) or not isinstance(seats, int) or seats < 0):
        return _reject(raw, "invalid_seats", "seats must be an integer >= 0.")
    if kind in NEEDS_SEATS and seats is None:
        return _reject(raw, "missing_field", f"seats is required for {kind}.")
    try:
        effective_at = parse_timestamp(raw.get("effective_at"))
    except ValueError as exc:
        return _reject(raw, "invalid_timestamp", str(exc).replace("timestamp", "effective_at"))
    return LifecycleEvent(
        event_id, tenant, kind, plan if kind in NEEDS_PLAN else None, seats, effective_at
    )
