"""Edges of event validation: limits reached exactly, timestamp spellings, exact quantities.

``test_payload`` and ``test_rejection_messages`` check each refusal; these tests check
what is accepted right at the limits (128 characters, 9 decimals, a double's range) and
the RFC 3339 spellings an integrator may send, on a server whose zone is not UTC.
"""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from ingestion_helpers import USAGE_EVENT

from usage_billing_connector.core import lifecycle_payload, payload
from usage_billing_connector.core.payload import Rejection, UsageEvent

USAGE = USAGE_EVENT
LIFECYCLE = {
    "event_id": "s-1",
    "tenant": "acme",
    "type": "suspended",
    "effective_at": "2026-03-01T00:00:00Z",
}
TEN_UTC = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-01-15t10:00:00Z", TEN_UTC),
        ("2026-01-15 10:00:00Z", TEN_UTC),
        ("2026-01-15T10:00:00z", TEN_UTC),
        ("2026-01-15T11:00:00+01:00", TEN_UTC),
        ("2026-01-15T10:00:00.5Z", TEN_UTC.replace(microsecond=500000)),
        ("2026-01-15T10:00:00.123456789z", TEN_UTC.replace(microsecond=123456)),
        ("2026-01-15T12:00:00.25+02:00", TEN_UTC.replace(microsecond=250000)),
    ],
)
def test_rfc3339_spellings_are_read_as_the_same_utc_instant(text, moment, server_in_new_york):
    parsed = payload.parse_timestamp(text)
    assert parsed == moment
    assert parsed.tzinfo == timezone.utc


@pytest.mark.parametrize("text", ["2026-01-15T10:00:00ZZ", "2026-01-15T10:00:00.Z"])
def test_timestamps_that_only_look_like_rfc3339_are_refused(text):
    with pytest.raises(ValueError):
        payload.parse_timestamp(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        ("0", "0"),
        (" 5\t", "5"),
        ("1.0000000000", "1.0000000000"),  # ten decimals, but exactly 1
        ("0.123456789", "0.123456789"),
        (Decimal("-0.0"), "0.0"),  # a negative zero is stored as zero
    ],
)
def test_quantities_accepted_at_the_limits_stay_exact(value, text):
    assert str(payload.parse_quantity(value)) == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5\n", "quantity is not a decimal number (digits, an optional fraction)"),
        ("5X", "quantity is not a decimal number (digits, an optional fraction)"),
        (Decimal("Infinity"), "quantity must be finite"),
        (Decimal("NaN"), "quantity must be finite"),
        (Decimal("-0.1"), "quantity must be >= 0"),
    ],
)
def test_quantities_outside_the_limits_are_refused_saying_why(value, message):
    with pytest.raises(ValueError) as err:
        payload.parse_quantity(value)
    assert str(err.value) == message


def test_references_of_exactly_128_characters_are_accepted():
    long = "x" * 128
    event = payload.parse_event({**USAGE, "event_id": long, "tenant": long, "metric": long})
    assert isinstance(event, UsageEvent)
    assert (event.event_id, event.tenant, event.metric) == (long, long, long)
    refused = payload.parse_event({**USAGE, "event_id": long, "quantity": -1})
    assert refused == Rejection(long, "invalid_quantity", "quantity must be >= 0")


def test_an_over_long_event_id_is_not_echoed_in_a_rejection():
    assert payload.raw_event_id({"event_id": "x" * 129}) is None
    assert payload.raw_event_id({"event_id": "x" * 128}) == "x" * 128
    assert payload.raw_event_id({"event_id": "x\x00"}) is None
    assert payload.raw_event_id(["x"]) is None


def test_properties_are_stored_as_plain_json_up_to_a_doubles_range():
    largest = Decimal("1.7976931348623157e308")
    event = payload.parse_event(
        {
            **USAGE,
            "properties": {"big": largest, "list": [1, Decimal("2.5"), {"n": Decimal("3.0")}]},
        }
    )
    assert event.properties["list"] == [1, 2.5, {"n": 3}]
    assert isinstance(event.properties["list"][2]["n"], int)
    assert event.properties["big"] == int(largest)


def test_a_lifecycle_event_keeps_its_id_and_tenant_at_128_characters():
    long = "y" * 128
    event = lifecycle_payload.parse_lifecycle_event({**LIFECYCLE, "event_id": long, "tenant": long})
    assert (event.event_id, event.tenant, event.type) == (long, long, "suspended")
    assert (event.plan, event.seats) == (None, None)


def test_an_empty_lifecycle_event_id_is_echoed_as_sent():
    refused = lifecycle_payload.parse_lifecycle_event({**LIFECYCLE, "event_id": ""})
    assert refused == Rejection(
        "", "invalid_event_id", "event_id must be a string of 1 to 128 characters."
    )
