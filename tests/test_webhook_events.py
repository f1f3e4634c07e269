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


def test_instants_are_utc_whatever_the_servers_zone(server_in_new_york):
    assert webhook_events.rfc3339(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    aware = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    assert webhook_events.rfc3339(aware) == "2026-01-02T02:04:05Z"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    created = webhook_events.envelope("invoice.paid", "acme", {})["created_at"]
    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= moment <= datetime.now(timezone.utc)


def test_refusals_name_what_is_wrong_and_what_is_known():
    with pytest.raises(webhook_events.EventTypeError) as err:
        webhook_events.parse_event_types("invoice.lost, invoice.paid, usage.gone")
    assert str(err.value) == (
        "Unknown event type(s): invoice.lost, usage.gone. Known: "
        + ", ".join(webhook_events.EVENT_TYPES)
        + "."
    )
    assert ", invoice.paid, " in str(err.value)
    with pytest.raises(webhook_events.EventTypeError, match=r"^Unknown event type: invoice\.lost$"):
        webhook_events.envelope("invoice.lost", "acme", {})
    with pytest.raises(ValueError, match=r"^tenant is required$"):
        webhook_events.envelope("invoice.paid", None, {})


def test_an_event_keeps_the_id_it_was_given_and_sends_the_tenant_as_text():
    event = webhook_events.envelope("invoice.paid", 42, {"a": 1}, event_id="evt_fixed")
    assert (event["id"], event["tenant"], event["data"]) == ("evt_fixed", "42", {"a": 1})
