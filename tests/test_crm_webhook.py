"""Signed webhook client against the fake CRM server over real HTTP."""

import re
import time
from decimal import Decimal

import pytest
from crm_helpers import (
    OCCURRED_AT,
    RefusingSession,
    account_update,
    assert_never_contains,
    usage_alert,
)

from crm_sync_connector.core.clients import WebhookClient
from usage_billing_connector.core import signing


def test_webhook_delivers_a_signed_event_the_receiver_verifies(crm, webhook):
    result = webhook.send(
        "account.updated",
        "acme",
        "2025-03-01T12:00:00+00:00",
        {"plan": "pro", "mrr": Decimal("99.50"), "usage": {"api_calls": 1200}},
        idempotency_key="msg-42",
    )

    assert result.ok and result.status == 200
    (event,) = crm.webhook_events
    assert event["payload"] == {
        "event": "account.updated",
        "tenant": "acme",
        "occurred_at": "2025-03-01T12:00:00+00:00",
        "data": {"plan": "pro", "mrr": "99.50", "usage": {"api_calls": 1200}},
    }
    assert event["idempotency_key"] == "msg-42"
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", event["signature"])
    request = crm.requests_to("/webhook")[0]
    assert request.header("Content-Type") == "application/json"
    # the signature covers exactly the bytes received
    signing.verify(event["signature"], request.body, [crm.WEBHOOK_SECRET], time.time(), 300)
    with pytest.raises(signing.SignatureError):
        signing.verify(
            event["signature"], request.body + b" ", [crm.WEBHOOK_SECRET], time.time(), 300
        )


def test_webhook_wrong_secret_is_rejected_by_the_receiver(crm):
    client = WebhookClient(crm.webhook_url, "whsec_wrong_secret_123456")
    result = client.send("account.alert", "acme", "2025-03-01T12:00:00Z", {"alert": "usage_90"})
    assert (result.ok, result.status, result.retryable) == (False, 401, False)
    assert crm.webhook_events == [] and len(crm.webhook_rejected) == 1
    assert_never_contains("whsec_wrong_secret_123456", result, result.attempts, client)


def test_webhook_stale_timestamp_is_rejected_by_the_receiver(crm):
    client = WebhookClient(crm.webhook_url, crm.WEBHOOK_SECRET, clock=lambda: time.time() - 3600)
    result = client.send("account.alert", "acme", "2025-03-01T12:00:00Z", {})
    assert result.status == 401
    assert crm.webhook_rejected and not crm.webhook_events


def test_webhook_unknown_event_is_a_programming_error(webhook):
    with pytest.raises(ValueError, match=r"account\.updated"):
        webhook.send("account.deleted", "acme", "2025-03-01T12:00:00Z", {})


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (400, False)])
def test_webhook_receiver_errors(crm, webhook, status, retryable):
    crm.inject("/webhook", "status", status=status)
    result = webhook.send("account.updated", "acme", "2025-03-01T12:00:00Z", {})
    assert (result.ok, result.status, result.retryable) == (False, status, retryable)


def test_webhook_timeout_is_retryable(crm, webhook):
    crm.inject("/webhook", "timeout", apply=False)
    result = webhook.send("account.updated", "acme", "2025-03-01T12:00:00Z", {})
    assert (result.ok, result.status, result.retryable) == (False, None, True)


def test_webhook_non_json_2xx_answer_is_fine(crm, webhook):
    crm.inject("/webhook", "malformed")
    assert webhook.send("account.updated", "acme", "2025-03-01T12:00:00Z", {}).ok


def test_webhook_test_connection_sends_a_signed_ping(crm, webhook):
    assert webhook.test_connection().ok
    assert crm.webhook_events[0]["payload"]["event"] == "ping"


def test_credentials_in_a_configured_url_are_redacted(crm):
    """Some receivers authenticate webhooks with a token in the query string."""
    client = WebhookClient(crm.webhook_url + "?access_token=leaky-query-token", crm.WEBHOOK_SECRET)
    result = client.send("account.updated", "acme", "2025-03-01T12:00:00Z", {})
    assert result.ok
    assert crm.requests_to("/webhook")[0].query == {"access_token": ["leaky-query-token"]}
    assert result.attempts[0].url.endswith("/webhook?access_token=[REDACTED]")
    assert_never_contains("leaky-query-token", result, client)


# -- interface: push_updates, push_alert ---------------------------------------------


def verified(event, secret):
    """The event's signature checked with the product's verifier; raises when invalid."""
    return signing.verify(event["signature"], event["body"], [secret], time.time(), 300)


def test_webhook_push_updates_one_signed_event_per_update(crm, webhook):
    updates = [account_update("acme", plan="pro"), account_update("globex", seats=3)]

    results = webhook.push_updates(updates)

    assert [result.ok for result in results] == [True, True]
    assert results[0] is not results[1]
    assert [event["payload"] for event in crm.webhook_events] == [
        {"event": "account.updated", "tenant": t, "occurred_at": OCCURRED_AT, "data": data}
        for t, data in (("acme", {"plan": "pro"}), ("globex", {"seats": 3}))
    ]
    assert [e["idempotency_key"] for e in crm.webhook_events] == [u.key for u in updates]
    for event in crm.webhook_events:
        verified(event, crm.WEBHOOK_SECRET)


def test_webhook_push_updates_failure_stays_with_its_update(crm, webhook):
    crm.inject("/webhook", "status", status=500)
    results = webhook.push_updates([account_update("acme"), account_update("globex")])
    assert [(result.ok, result.status) for result in results] == [(False, 500), (True, 200)]
    assert [event["payload"]["tenant"] for event in crm.webhook_events] == ["globex"]


def test_webhook_push_alert_sends_the_alert_data_with_the_account(crm, webhook):
    alert = usage_alert("acme", plan="pro")

    result = webhook.push_alert(alert)

    assert result.ok
    (event,) = crm.webhook_events
    assert event["payload"] == {
        "event": "account.alert",
        "tenant": "acme",
        "occurred_at": OCCURRED_AT,
        "data": {**alert.payload, "account": {"plan": "pro"}},
    }
    assert event["idempotency_key"] == alert.key
    verified(event, crm.WEBHOOK_SECRET)
    with pytest.raises(signing.SignatureError):
        verified(event, "whsec_another_secret_0000")


def test_the_ping_is_an_event_without_tenant_time_or_data(crm, webhook):
    result = webhook.test_connection()
    assert crm.webhook_events[0]["payload"] == {
        "event": "ping",
        "tenant": None,
        "occurred_at": None,
        "data": {},
    }
    assert [attempt.method for attempt in result.attempts] == ["POST"]


def test_webhook_client_uses_the_session_given_and_needs_a_secret(crm):
    session = RefusingSession()
    client = WebhookClient(crm.webhook_url, "whsec", session=session)
    assert not client.test_connection().ok
    assert session.sent == [("POST", crm.webhook_url)]
    with pytest.raises(ValueError, match=r"^webhook secret is required$"):
        WebhookClient(crm.webhook_url, "")


def test_a_3xx_answer_to_a_webhook_is_not_a_delivery(crm, webhook):
    crm.inject("/webhook", "status", status=300)
    result = webhook.send("account.updated", "acme", "2025-03-01T12:00:00Z", {})
    assert (result.ok, result.status) == (False, 300)
