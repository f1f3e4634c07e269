"""The ``error.message`` an integrator reads for each refused event, body and signature.

Codes are checked where each rule is tested; here the message that goes with each code
in the JSON answer is pinned, with the ``event_id`` echoed back, because it is part of
the contract a client debugs against.
"""

import pytest
from ingestion_helpers import USAGE_EVENT

from usage_billing_connector.core import lifecycle_payload, payload, signing
from usage_billing_connector.core.payload import BatchError, Rejection

SURROGATE = "contains a lone UTF-16 surrogate."
NUL = "contains a NUL character (\\u0000)."
ID_RULE = "event_id must be a string of 1 to 128 characters."
SEATS_RULE = "seats must be an integer from 0 to 2147483647."
USAGE = USAGE_EVENT
LIFECYCLE = {
    "event_id": "s-1",
    "tenant": "acme",
    "type": "activated",
    "plan": "pro",
    "seats": 2,
    "effective_at": "2026-03-01T00:00:00Z",
}
NESTED = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}


@pytest.mark.parametrize(
    ("overrides", "echoed", "code", "message"),
    [
        ({"event_id": ""}, "", "invalid_event_id", ID_RULE),
        ({"event_id": 7}, None, "invalid_event_id", ID_RULE),
        ({"event_id": "x\x00"}, None, "invalid_characters", f"event_id {NUL}"),
        ({"tenant": "\ud800"}, "e-1", "invalid_characters", f"tenant {SURROGATE}"),
        ({"quantity": "1\x00"}, "e-1", "invalid_characters", f"quantity {NUL}"),
        ({"tenant": " "}, "e-1", "missing_field", "tenant is required (a non-empty string)"),
        ({"metric": None}, "e-1", "missing_field", "metric is required (a non-empty string)"),
        ({"tenant": "t" * 129}, "e-1", "missing_field", "tenant is longer than 128 characters"),
        ({"quantity": -1}, "e-1", "invalid_quantity", "quantity must be >= 0"),
        (
            {"quantity": None},
            "e-1",
            "invalid_quantity",
            "quantity must be a number or a decimal string",
        ),
        (
            {"quantity": "1e3"},
            "e-1",
            "invalid_quantity",
            "quantity is not a decimal number (digits, an optional fraction)",
        ),
        ({"quantity": 10**18}, "e-1", "invalid_quantity", "quantity is too large"),
        (
            {"quantity": "0.0000000001"},
            "e-1",
            "invalid_quantity",
            "quantity has more than 9 decimals",
        ),
        (
            {"timestamp": "x"},
            "e-1",
            "invalid_timestamp",
            "timestamp must be RFC 3339 with an offset, e.g. 2026-01-31T12:00:00Z",
        ),
        (
            {"timestamp": "2026-02-30T10:00:00Z"},
            "e-1",
            "invalid_timestamp",
            "timestamp is not a valid date: day is out of range for month",
        ),
        (
            {"timestamp": "0001-01-01T00:00:00+01:00"},
            "e-1",
            "invalid_timestamp",
            "timestamp is out of range once converted to UTC",
        ),
        ({"properties": [1]}, "e-1", "invalid_properties", "properties must be a JSON object."),
        (
            {"properties": NESTED},
            "e-1",
            "invalid_properties",
            "properties is nested deeper than 8 levels.",
        ),
        (
            {"properties": {"a": "x" * 20000}},
            "e-1",
            "invalid_properties",
            "properties take 20008 bytes as JSON; at most 16384 are stored.",
        ),
        (
            {"properties": {"a": 10**400}},
            "e-1",
            "invalid_properties",
            "properties hold a number beyond the range of a double.",
        ),
        ({"properties": {"k\x00": 1}}, "e-1", "invalid_characters", f"properties key {NUL}"),
        ({"properties": {"k": ["\x00"]}}, "e-1", "invalid_characters", f"properties {NUL}"),
    ],
)
def test_a_refused_usage_event_says_why(overrides, echoed, code, message):
    assert payload.parse_event({**USAGE, **overrides}) == Rejection(echoed, code, message)


def test_an_event_that_is_not_an_object_is_refused_without_an_id():
    expected = Rejection(None, "invalid_event", "Each event must be a JSON object.")
    assert payload.parse_event(["e-1"]) == expected
    assert lifecycle_payload.parse_lifecycle_event("s-1") == expected


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"[]", "invalid_request", 'Body must be an object {"events": [...]}.'),
        (b'{"events": {}}', "invalid_request", 'Body must be an object {"events": [...]}.'),
        (b'{"events": []}', "invalid_request", "events must hold at least one event."),
        (b'{"events": [1, 2, 3]}', "too_many_events", "3 events sent; at most 2 per request."),
        (b"NaN", "invalid_json", "Body is not valid JSON: NaN is not a JSON number"),
        (b"[" * 65 + b"]" * 65, "invalid_json", "JSON is nested deeper than 64 levels."),
        (
            b"\xff",
            "invalid_json",
            "Body is not UTF-8: 'utf-8' codec can't decode byte 0xff in position 0: "
            "invalid start byte",
        ),
    ],
)
def test_a_refused_body_says_why(body, code, message):
    with pytest.raises(BatchError) as err:
        payload.parse_body(body, max_events=2)
    assert (err.value.status, err.value.code, err.value.message) == (400, code, message)
    assert str(err.value) == message


def test_a_body_of_exactly_the_maximum_is_accepted():
    assert payload.parse_body(b'{"events": [1, 2]}', max_events=2) == [1, 2]


@pytest.mark.parametrize(
    ("overrides", "echoed", "code", "message"),
    [
        ({"event_id": "e" * 129}, None, "invalid_event_id", ID_RULE),
        ({"plan": "p\x00"}, "s-1", "invalid_characters", f"plan {NUL}"),
        (
            {"tenant": ""},
            "s-1",
            "missing_field",
            "tenant is required (a string of 1 to 128 characters).",
        ),
        (
            {"type": "upgraded"},
            "s-1",
            "invalid_type",
            "type must be one of activated, plan_changed, seats_changed, suspended, "
            "reactivated, cancelled.",
        ),
        (
            {"type": "plan_changed", "plan": " "},
            "s-1",
            "missing_field",
            "plan is required for plan_changed (a string of 1 to 128 characters).",
        ),
        ({"seats": -1}, "s-1", "invalid_seats", SEATS_RULE),
        ({"seats": 2**31}, "s-1", "invalid_seats", SEATS_RULE),
        (
            {"type": "seats_changed", "seats": None},
            "s-1",
            "missing_field",
            "seats is required for seats_changed.",
        ),
        (
            {"effective_at": "tomorrow"},
            "s-1",
            "invalid_timestamp",
            "effective_at must be RFC 3339 with an offset, e.g. 2026-01-31T12:00:00Z",
        ),
        (
            {"effective_at": "2026-02-30T00:00:00Z"},
            "s-1",
            "invalid_timestamp",
            "effective_at is not a valid date: day is out of range for month",
        ),
    ],
)
def test_a_refused_lifecycle_event_says_why(overrides, echoed, code, message):
    parsed = lifecycle_payload.parse_lifecycle_event({**LIFECYCLE, **overrides})
    assert parsed == Rejection(echoed, code, message)


def test_a_lifecycle_event_keeps_seats_and_the_plan_only_where_they_apply():
    parsed = lifecycle_payload.parse_lifecycle_event(
        {**LIFECYCLE, "type": "seats_changed", "seats": 0, "plan": "pro"}
    )
    assert (parsed.type, parsed.seats, parsed.plan) == ("seats_changed", 0, None)
    parsed = lifecycle_payload.parse_lifecycle_event({**LIFECYCLE, "seats": None})
    assert (parsed.plan, parsed.seats) == ("pro", None)
    assert parsed.effective_at.isoformat() == "2026-03-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "X-Usage-Signature must look like t=<unix seconds>,v1=<hex>."),
        ("v1=" + "a" * 64, "X-Usage-Signature must look like t=<unix seconds>,v1=<hex>."),
        ("t=12", "X-Usage-Signature must look like t=<unix seconds>,v1=<hex>."),
        ("t=1.5,v1=" + "a" * 64, "Signature timestamp is not an integer."),
        ("t=١٢,v1=" + "a" * 64, "Signature timestamp is not an integer."),
    ],
)
def test_a_malformed_signature_header_says_what_it_should_look_like(header, message):
    with pytest.raises(signing.SignatureError) as err:
        signing.parse_header(header)
    assert (err.value.code, err.value.message, str(err.value)) == (
        "invalid_signature",
        message,
        message,
    )


def test_a_stale_or_wrong_signature_says_which():
    header = signing.sign_header("s3cret", 1000, b"{}")
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(header, b"{}", ["s3cret"], now=1301, tolerance=300)
    assert (err.value.code, err.value.message) == (
        "stale_signature",
        "Signature timestamp is more than 300 s away from now.",
    )
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(header, b"{}", ["other"], now=1000, tolerance=300)
    assert (err.value.code, err.value.message) == (
        "invalid_signature",
        "No signature matches this key.",
    )
