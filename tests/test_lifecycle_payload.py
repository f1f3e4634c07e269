import pytest

from usage_billing_connector.core.lifecycle_payload import LifecycleEvent, parse_lifecycle_event
from usage_billing_connector.core.payload import Rejection


def event(**overrides):
    raw = {
        "event_id": "s-1",
        "tenant": "acme",
        "type": "activated",
        "plan": "growth-monthly",
        "seats": 2,
        "effective_at": "2026-03-01T00:00:00Z",
    }
    raw.update(overrides)
    return raw


def test_valid_event_and_its_hash_ignore_irrelevant_plan():
    parsed = parse_lifecycle_event(event())
    assert isinstance(parsed, LifecycleEvent)
    suspended = parse_lifecycle_event(event(type="suspended", plan="ignored"))
    assert suspended.plan is None
    assert suspended.payload_hash == parse_lifecycle_event(event(type="suspended")).payload_hash


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"type": "upgraded"}, "invalid_type"),
        ({"plan": None}, "missing_field"),
        ({"type": "plan_changed", "plan": ""}, "missing_field"),
        ({"type": "seats_changed", "seats": None}, "missing_field"),
        ({"seats": -1}, "invalid_seats"),
        ({"seats": 1.5}, "invalid_seats"),
        ({"seats": True}, "invalid_seats"),
        ({"effective_at": "yesterday"}, "invalid_timestamp"),
        ({"tenant": ""}, "missing_field"),
        ({"event_id": ""}, "invalid_event_id"),
    ],
)
def test_invalid_events_are_rejected(overrides, code):
    parsed = parse_lifecycle_event(event(**overrides))
    assert isinstance(parsed, Rejection)
    assert parsed.code == code


@pytest.mark.parametrize("field", ["event_id", "tenant", "plan", "effective_at", "type"])
def test_unstorable_characters_reject_a_lifecycle_event(field):
    parsed = parse_lifecycle_event(event(**{field: "x\x00"}))
    assert parsed.code == "invalid_characters"
    assert field in parsed.message
    surrogate = parse_lifecycle_event(event(**{field: "\ud800"}))
    assert surrogate.code == "invalid_characters"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"seats": 2**31}, "invalid_seats"),
        ({"seats": 10**30}, "invalid_seats"),
        ({"tenant": "t" * 129}, "missing_field"),
        ({"plan": "p" * 129}, "missing_field"),
        ({"effective_at": "0001-01-01T00:00:00+00:01"}, "invalid_timestamp"),
    ],
)
def test_values_the_database_cannot_hold_are_rejected(overrides, code):
    assert parse_lifecycle_event(event(**overrides)).code == code


def test_largest_seat_count_is_accepted():
    assert parse_lifecycle_event(event(seats=2**31 - 1)).seats == 2**31 - 1
