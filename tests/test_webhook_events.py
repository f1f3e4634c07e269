import json
from datetime import datetime, timedelta, timezone

import pytest

from usage_billing_connector.core import signing, webhook_events
from usage_billing_connector.core.delivery.http import to_json_bytes


def test_types_table_holds_the_contract_types_and_credits():
    assert set(webhook_events.EVENT_TYPES) == {
        "invoice.posted",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.overdue",
        "subscription.suspended",
        "subscription.reactivated",
        "usage.threshold_crossed",
        "credits.low_balance",
    }


def test_event_types_are_parsed_and_validated():
    assert webhook_events.parse_event_types("") == ()
    assert webhook_events.parse_event_types(None) == ()
    assert webhook_events.parse_event_types(" invoice.paid ,invoice.paid, invoice.overdue") == (
        "invoice.paid",
        "invoice.overdue",
    )
    with pytest.raises(webhook_events.EventTypeError, match=r"invoice\.unknown"):
        webhook_events.parse_event_types("invoice.paid,invoice.unknown")


def test_empty_subscription_means_every_type():
    assert webhook_events.subscribes_to("", "usage.threshold_crossed")
    assert webhook_events.subscribes_to("invoice.paid", "invoice.paid")
    assert not webhook_events.subscribes_to("invoice.paid", "invoice.posted")


def test_envelope_is_the_wire_contract_and_signs_over_the_exact_bytes():
    moment = datetime(2026, 3, 1, 12, 30, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    event = webhook_events.envelope(
        "invoice.paid", "acme", {"invoice": {"number": "INV/1"}}, created_at=moment
    )
    assert list(event) == ["id", "type", "created_at", "tenant", "data"]
    assert event["id"].startswith("evt_") and len(event["id"]) == 36
    assert event["created_at"] == "2026-03-01T10:30:05Z"
    assert event["tenant"] == "acme"
    body = to_json_bytes(event)
    header = signing.sign_header("whsec", 1_700_000_000, body)
    assert signing.verify(header, body, ["whsec"], now=1_700_000_001, tolerance=300)
    assert json.loads(body) == event


def test_event_ids_are_unique_and_unknown_types_refused():
    assert webhook_events.new_event_id() != webhook_events.new_event_id()
    with pytest.raises(webhook_events.EventTypeError):
        webhook_events.envelope("invoice.lost", "acme", {})
    with pytest.raises(ValueError):
        webhook_events.envelope("invoice.paid", "", {})


def test_naive_instants_are_utc():
    assert webhook_events.rfc3339(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
