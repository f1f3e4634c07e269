"""Events sent to the product platform's webhook endpoints: the types and the envelope.

Wire contract (fixed): each delivery is ``POST`` JSON::

    {"id": "<unique event id>", "type": "<type>", "created_at": "<RFC 3339>",
     "tenant": "<tenant external id>", "data": {...}}

signed with ``X-Usage-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
(``core.signing``).  The ``id`` is chosen once, when the event happens, and is
sent unchanged by every retry and replay: receivers dedupe on it.

``EVENT_TYPES`` is the one table of types: another feature adds its type here
(one line) and emits it through ``usage.tenant._usage_notify``.
"""

import uuid
from datetime import datetime, timezone

SIGNATURE_HEADER = "X-Usage-Signature"

#: type -> what it tells the receiver (shown in the endpoint form's help).
EVENT_TYPES = {
    "invoice.posted": "A usage invoice was posted (sent to the customer).",
    "invoice.paid": "A usage invoice is fully paid.",
    "invoice.payment_failed": "Charging the customer's saved payment method failed.",
    "invoice.overdue": "A usage invoice is past its due date and unpaid.",
    "subscription.suspended": "A subscription was suspended (by dunning, the API or a user).",
    "subscription.reactivated": "A suspended subscription is active again.",
    "usage.threshold_crossed": "Usage of a metric crossed an alert threshold in a period.",
    "credits.low_balance": "A tenant's prepaid credit balance is low.",
}


class EventTypeError(ValueError):
    """An endpoint's ``event_types`` names a type that does not exist."""


def parse_event_types(text):
    """``"a, b"`` -> ``("a", "b")`` (order kept, duplicates dropped); empty means all.

    Raises ``EventTypeError`` naming the unknown types.
    """
    names = []
    for part in (text or "").split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    unknown = [name for name in names if name not in EVENT_TYPES]
    if unknown:
        raise EventTypeError(
            f"Unknown event type(s): {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}."
        )
    return tuple(names)


def subscribes_to(event_types_text, event_type):
    """Whether an endpoint with ``event_types_text`` receives ``event_type``."""
    names = parse_event_types(event_types_text)
    return not names or event_type in names


def new_event_id():
    """A unique, opaque event id (``evt_`` + 32 hex digits)."""
    return f"evt_{uuid.uuid4().hex}"


def rfc3339(moment):
    """An instant as RFC 3339 UTC with a ``Z`` (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event_type, tenant, data, *, event_id=None, created_at=None):
    """The JSON object delivered for one event (see the module docstring)."""
    if event_type not in EVENT_TYPES:
        raise EventTypeError(f"Unknown event type: {event_type}")
    if not tenant:
        raise ValueError("tenant is required")
    return {
        "id": event_id or new_event_id(),
        "type": event_type,
        "created_at": rfc3339(created_at or datetime.now(timezone.utc)),
        "tenant": str(tenant),
        "data": data,
    }
