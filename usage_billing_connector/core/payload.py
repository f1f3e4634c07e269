"""Validation of ingestion request bodies and of the events inside them.

A request body is ``{"events": [...]}``.  A malformed *batch* fails the whole
request (``BatchError``); a malformed *event* only rejects that event
(``Rejection``), the others go on.  Quantities stay exact: the body is parsed
with ``parse_float=Decimal`` and decimal strings are accepted.

Limits of an event (documented in the OpenAPI description): ``event_id``,
``tenant`` and ``metric`` of at most 128 characters; ``properties`` an object
nested at most ``MAX_PROPERTIES_DEPTH`` levels, at most ``MAX_PROPERTIES_BYTES``
bytes once serialized, its numbers within the range of a double; no string
anywhere holds a NUL character or a lone surrogate (``invalid_characters``).
"""

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring_ascii

from .untrusted_json import UntrustedJsonError, check_depth, check_text, check_tree_text, decode

MAX_EVENT_ID_LENGTH = 128
MAX_REF_LENGTH = 128
MAX_PROPERTIES_DEPTH = 8
MAX_PROPERTIES_BYTES = 16384
QUANTITY_DECIMALS = 9
QUANTITY_MAX = Decimal(10) ** 18
QUANTITY_TEXT_RE = re.compile(r"^[0-9]+(\.[0-9]+)?\Z")
RFC3339_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
#: Property numbers beyond a double's range are refused rather than stored as
#: infinity (or as integers of thousands of digits); integers stay exact.
_DOUBLE_MAX = Decimal("1.7976931348623157e308")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class BatchError(Exception):
    """The whole request is refused; ``status`` is the HTTP status to answer."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Rejection:
    event_id: str | None
    code: str
    message: str


@dataclass(frozen=True)
class UsageEvent:
    event_id: str
    tenant: str
    metric: str
    quantity: Decimal
    occurred_at: datetime  # aware, UTC
    properties: dict = field(default_factory=dict)

    @functools.cached_property
    def payload_hash(self):
        """Hash of the normalised payload: ``10``, ``"10"`` and ``10.0`` are the same."""
        return hashlib.sha256(canonical_payload(self).encode()).hexdigest()


#: The canonical form's encoders, built once (``json.dumps`` with options builds
#: an encoder per call, a good part of its cost on small values).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical_payload(event):
    """The text the payload hash is taken of; stored hashes depend on it byte for byte.

    It is ``json.dumps([event_id, tenant, metric, quantity, timestamp, properties],
    sort_keys=True, separators=(",", ":"), default=str)`` (quantity normalised,
    timestamp in UTC ISO format), written out: the five strings are encoded as
    ``json.dumps`` encodes strings, only the properties go through the encoder.
    ``tests/test_payload.py`` checks the two agree.
    """
    quote = encode_basestring_ascii
    properties = event.properties
    return (
        f"[{quote(event.event_id)},{quote(event.tenant)},{quote(event.metric)},"
        f"{quote(format(event.quantity.normalize(), 'f'))},{quote(event.occurred_at.isoformat())},"
        f"{_CANONICAL.encode(properties) if properties else '{}'}]"
    )


def parse_body(body, max_events):
    """Decode the JSON body and return the raw event list."""
    try:
        data = decode(body)
    except UntrustedJsonError as exc:
        raise BatchError(400, exc.code, exc.message) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BatchError(400, "invalid_request", 'Body must be an object {"events": [...]}.')
    events = data["events"]
    if not events:
        raise BatchError(400, "invalid_request", "events must hold at least one event.")
    if len(events) > max_events:
        raise BatchError(
            400, "too_many_events", f"{len(events)} events sent; at most {max_events} per request."
        )
    return events


def raw_event_id(raw):
    """The ``event_id`` to echo in a rejection: only one that can be stored and logged."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    if not isinstance(event_id, str) or len(event_id) > MAX_EVENT_ID_LENGTH:
        return None
    try:
        return check_text(event_id, "event_id")
    except UntrustedJsonError:
        return None


def parse_quantity(value):
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError("quantity must be a number or a decimal string")
    if isinstance(value, str):
        value = value.strip(" \t")
        if not QUANTITY_TEXT_RE.match(value):
            raise ValueError("quantity is not a decimal number (digits, an optional fraction)")
    try:
        quantity = Decimal(value)
    except InvalidOperation:
        raise ValueError("quantity is not a decimal number") from None
    if not quantity.is_finite():
        raise ValueError("quantity must be finite")
    if quantity < 0:
        raise ValueError("quantity must be >= 0")
    if quantity >= QUANTITY_MAX:
        raise ValueError("quantity is too large")
    if -quantity.as_tuple().exponent > QUANTITY_DECIMALS and quantity != quantity.quantize(
        Decimal(1).scaleb(-QUANTITY_DECIMALS)
    ):
        raise ValueError(f"quantity has more than {QUANTITY_DECIMALS} decimals")
    return quantity + 0  # drops a negative zero sign


def parse_timestamp(value):
    """RFC 3339 with an explicit offset, returned as an aware UTC datetime."""
    if not isinstance(value, str) or not RFC3339_RE.match(value):
        raise ValueError("timestamp must be RFC 3339 with an offset, e.g. 2026-01-31T12:00:00Z")
    text = value.replace("t", "T").replace(" ", "T")
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    main, _, rest = text.partition(".")
    if rest:  # Python < 3.11 accepts only 3 or 6 fractional digits
        digits = re.match(r"\d+", rest).group()
        text = f"{main}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError as exc:
        raise ValueError(f"timestamp is not a valid date: {exc}") from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("timestamp is out of range once converted to UTC") from None


def _require_ref(raw, name):
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is required (a non-empty string)")
    if len(value) > MAX_REF_LENGTH:
        raise ValueError(f"{name} is longer than {MAX_REF_LENGTH} characters")
    return value


def storable_strings(raw, names):
    """``invalid_characters`` rejection message for the first named string field, if any."""
    for name in names:
        value = raw.get(name)
        if isinstance(value, str):
            try:
                check_text(value, name)
            except UntrustedJsonError as exc:
                return exc.message
    return None


def parse_properties(value):
    """``properties`` as stored: a plain JSON object within the documented limits."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UntrustedJsonError("invalid_properties", "properties must be a JSON object.")
    if not value:  # the common case: nothing to walk, 2 bytes
        return {}
    check_depth(value, MAX_PROPERTIES_DEPTH, "invalid_properties", "properties")
    check_tree_text(value, "properties")
    plain = _plain(value)
    size = len(_COMPACT.encode(plain).encode())
    if size > MAX_PROPERTIES_BYTES:
        raise UntrustedJsonError(
            "invalid_properties",
            f"properties take {size} bytes as JSON; at most {MAX_PROPERTIES_BYTES} are stored.",
        )
    return plain


def parse_event(raw):
    """Return a ``UsageEvent`` or a ``Rejection`` explaining what is wrong."""
    if not isinstance(raw, dict):
        return Rejection(None, "invalid_event", "Each event must be a JSON object.")
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID_LENGTH:
        return Rejection(
            raw_event_id(raw),
            "invalid_event_id",
            f"event_id must be a string of 1 to {MAX_EVENT_ID_LENGTH} characters.",
        )
    unstorable = storable_strings(raw, ("event_id", "tenant", "metric", "timestamp", "quantity"))
    if unstorable:
        return Rejection(raw_event_id(raw), "invalid_characters", unstorable)
    # In this order: the first problem found is the one reported.  (Plain
    # statements, not a table of closures: this runs for every event of a batch.)
    code = "missing_field"
    try:
        tenant = _require_ref(raw, "tenant")
        metric = _require_ref(raw, "metric")
        code = "invalid_quantity"
        quantity = parse_quantity(raw.get("quantity"))
        code = "invalid_timestamp"
        occurred_at = parse_timestamp(raw.get("timestamp"))
    except ValueError as exc:
        return Rejection(event_id, code, str(exc))
    try:
        properties = parse_properties(raw.get("properties"))
    except UntrustedJsonError as exc:
        return Rejection(event_id, exc.code, exc.message)
    return UsageEvent(event_id, tenant, metric, quantity, occurred_at, properties)


def _plain(value):
    """Numbers as JSON-friendly ``int``/``float`` for storage (see ``_DOUBLE_MAX``)."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = Decimal(value)
        if abs(number) > _DOUBLE_MAX:
            raise UntrustedJsonError(
                "invalid_properties", "properties hold a number beyond the range of a double."
            )
        if number == number.to_integral_value():
            return int(number)
        return float(number)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Repeat:
    """A later copy of an ``event_id`` already present earlier in the same batch."""

    first_index: int
    event: UsageEvent


def parse_events(raw_events):
    """Parse every event; returns ``UsageEvent``, ``Rejection`` or ``Repeat`` per event."""
    parsed, first_seen = [], {}
    for raw in raw_events:
        item = parse_event(raw)
        if isinstance(item, UsageEvent):
            if item.event_id in first_seen:
                item = Repeat(first_seen[item.event_id], item)
            else:
                first_seen[item.event_id] = len(parsed)
        parsed.append(item)
    return parsed
