from datetime import datetime, timezone
from decimal import Decimal

import pytest

from usage_billing_connector.core import payload
from usage_billing_connector.core.payload import BatchError, Rejection, Repeat, UsageEvent


def event(**overrides):
    raw = {
        "event_id": "e-1",
        "tenant": "acme",
        "metric": "api_calls",
        "quantity": 5,
        "timestamp": "2026-01-15T10:00:00Z",
    }
    raw.update(overrides)
    return raw


def test_body_parsing_keeps_decimals_exact():
    events = payload.parse_body(b'{"events": [{"quantity": 0.1}]}', max_events=10)
    assert events[0]["quantity"] == Decimal("0.1")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{nope", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[]", "invalid_request"),
        (b'{"events": {}}', "invalid_request"),
        (b'{"events": []}', "invalid_request"),
        (b'{"events": [1, 2, 3]}', "too_many_events"),
    ],
)
def test_bad_bodies_fail_the_whole_batch(body, code):
    with pytest.raises(BatchError) as err:
        payload.parse_body(body, max_events=2)
    assert (err.value.status, err.value.code) == (400, code)


def test_valid_event_is_normalised_to_utc():
    parsed = payload.parse_event(event(timestamp="2026-01-15T12:30:00.5+02:00", quantity="7.25"))
    assert isinstance(parsed, UsageEvent)
    assert parsed.occurred_at == datetime(2026, 1, 15, 10, 30, 0, 500000, tzinfo=timezone.utc)
    assert parsed.quantity == Decimal("7.25")
    assert parsed.properties == {}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"event_id": ""}, "invalid_event_id"),
        ({"event_id": "x" * 129}, "invalid_event_id"),
        ({"event_id": 12}, "invalid_event_id"),
        ({"tenant": ""}, "missing_field"),
        ({"metric": None}, "missing_field"),
        ({"quantity": -1}, "invalid_quantity"),
        ({"quantity": "1e999999"}, "invalid_quantity"),
        ({"quantity": "NaN"}, "invalid_quantity"),
        ({"quantity": None}, "invalid_quantity"),
        ({"quantity": True}, "invalid_quantity"),
        ({"quantity": "0.0000000001"}, "invalid_quantity"),
        ({"timestamp": "2026-01-15"}, "invalid_timestamp"),
        ({"timestamp": "2026-01-15T10:00:00"}, "invalid_timestamp"),
        ({"timestamp": "2026-02-30T10:00:00Z"}, "invalid_timestamp"),
        ({"timestamp": 1700000000}, "invalid_timestamp"),
        ({"properties": [1]}, "invalid_properties"),
    ],
)
def test_malformed_events_are_rejected_with_a_code(overrides, code):
    parsed = payload.parse_event(event(**overrides))
    assert isinstance(parsed, Rejection)
    assert parsed.code == code
    assert parsed.message


def test_128_character_id_and_nine_decimals_are_accepted():
    parsed = payload.parse_event(event(event_id="x" * 128, quantity="0.000000001"))
    assert parsed.quantity == Decimal("0.000000001")


def test_payload_hash_ignores_number_spelling_but_not_values():
    base = payload.parse_event(event(quantity=10)).payload_hash
    assert payload.parse_event(event(quantity="10.000")).payload_hash == base
    assert payload.parse_event(event(quantity=Decimal("10.0"))).payload_hash == base
    same_moment = event(quantity=10, timestamp="2026-01-15T11:00:00+01:00")
    assert payload.parse_event(same_moment).payload_hash == base
    assert payload.parse_event(event(quantity=11)).payload_hash != base
    assert payload.parse_event(event(properties={"a": 1})).payload_hash != base


def test_repeats_in_a_batch_point_at_the_first_copy():
    parsed = payload.parse_events([event(), event(event_id="e-2"), event(quantity=6)])
    assert isinstance(parsed[2], Repeat)
    assert parsed[2].first_index == 0
