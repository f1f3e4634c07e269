"""Validation of subscription lifecycle events (``/usage_billing/v1/subscription_events``)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from .payload import (
    MAX_EVENT_ID_LENGTH,
    MAX_REF_LENGTH,
    Rejection,
    parse_timestamp,
    raw_event_id,
    storable_strings,
)

TYPES = ("activated", "plan_changed", "seats_changed", "suspended", "reactivated", "cancelled")
NEEDS_PLAN = ("activated", "plan_changed")
NEEDS_SEATS = ("seats_changed",)
#: Seats are stored in a PostgreSQL integer.
MAX_SEATS = 2**31 - 1


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
    return Rejection(raw_event_id(raw), code, message)


def _is_ref(value):
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_REF_LENGTH


def parse_lifecycle_event(raw):
    if not isinstance(raw, dict):
        return _reject(raw, "invalid_event", "Each event must be a JSON object.")
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID_LENGTH:
        return _reject(raw, "invalid_event_id", "event_id must be a string of 1 to 128 characters.")
    unstorable = storable_strings(raw, ("event_id", "tenant", "type", "plan", "effective_at"))
    if unstorable:
        return _reject(raw, "invalid_characters", unstorable)
    tenant = raw.get("tenant")
    if not _is_ref(tenant):
        message = f"tenant is required (a string of 1 to {MAX_REF_LENGTH} characters)."
        return _reject(raw, "missing_field", message)
    kind = raw.get("type")
    if kind not in TYPES:
        return _reject(raw, "invalid_type", f"type must be one of {', '.join(TYPES)}.")
    plan = raw.get("plan")
    if kind in NEEDS_PLAN and not _is_ref(plan):
        return _reject(
            raw,
            "missing_field",
            f"plan is required for {kind} (a string of 1 to {MAX_REF_LENGTH} characters).",
        )
    seats = raw.get("seats")
    if seats is not None and (
        isinstance(seats, bool) or not isinstance(seats, int) or not 0 <= seats <= MAX_SEATS
    ):
        return _reject(raw, "invalid_seats", f"seats must be an integer from 0 to {MAX_SEATS}.")
    if kind in NEEDS_SEATS and seats is None:
        return _reject(raw, "missing_field", f"seats is required for {kind}.")
    try:
        effective_at = parse_timestamp(raw.get("effective_at"))
    except ValueError as exc:
        return _reject(raw, "invalid_timestamp", str(exc).replace("timestamp", "effective_at"))
    return LifecycleEvent(
        event_id, tenant, kind, plan if kind in NEEDS_PLAN else None, seats, effective_at
    )
