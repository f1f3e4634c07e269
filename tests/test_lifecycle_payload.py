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
