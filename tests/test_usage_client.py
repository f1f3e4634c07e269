"""The reference client against a local stand-in of the ingestion API (tests/fake_usage_api.py).

A client that passes here signs, batches and reads answers the way the server
expects.  Failures are injected per request to check which ones are retried, how
long the client waits (``sleep`` is recorded, never slept) and that a retry
resends the very same body.  The CLI is tested in test_usage_client_cli.py.
"""

import json
import time
from decimal import Decimal

import pytest
import usage_client
from fake_usage_api import KEY, SECRET, events, sent_ids

from usage_billing_connector.core import signing

# ------------------------------------------------------------------ batching


def test_2500_events_go_in_three_signed_requests(api, client, sleeps):
    summary = client.send(iter(events(2500)))
    assert summary.requests == 3
    assert [len(sent_ids(body)) for body in api.bodies] == [1000, 1000, 500]
    assert all(ok for _headers, _body, ok in api.requests)
    assert [i for body in api.bodies for i in sent_ids(body)] == [f"ev-{n}" for n in range(2500)]
    assert (summary.accepted, summary.retries, summary.failed_batches) == (2500, 0, 0)
    assert summary.ok and not summary.errors and not sleeps
    # Each batch has its own request id, sent as X-Request-Id.
    assert len({headers["X-Request-Id"] for headers, _b, _ok in api.requests}) == 3


def test_counts_are_added_over_batches_and_rejections_are_listed(api, client):
    batch = events(3) + events(1, prefix="bad", quantity=-1) + events(1, prefix="q", tenant="x")
    client.batch_size = 2
    client.send(events(2))  # already stored: duplicates below
    summary = client.send(batch)
    assert (summary.accepted, summary.duplicates, summary.quarantined, summary.rejected) == (
        1,
        2,
        1,
        1,
    )
    assert summary.requests == 3
    assert summary.errors == [{"event_id": "bad-0", "code": "invalid_quantity", "message": None}]
    assert not summary.ok


def test_body_is_compact_json_with_exact_decimal_quantities(api, client):
    client.send([{**events(1)[0], "quantity": Decimal("0.10")}])
    assert api.bodies[0].startswith(b'{"events":[{"event_id":"ev-0",')
    assert json.loads(api.bodies[0])["events"][0]["quantity"] == "0.10"


# ------------------------------------------------------------------- retries


def test_429_waits_retry_after_and_resends_the_same_body(api, client, sleeps):
    api.script = [(429, {"Retry-After": "7"})]
    summary = client.send(events(3))
    assert summary.requests == 2 and summary.retries == 1
    assert summary.accepted == 3 and summary.ok
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 8
    first, second = api.requests
    assert first[1] == second[1]  # byte-identical: same event ids, idempotent
    assert first[0]["X-Request-Id"] == second[0]["X-Request-Id"]
    assert second[2]  # the retry is signed too


def test_each_attempt_is_signed_with_a_fresh_timestamp(api, client, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(usage_client.time, "time", lambda: clock[0])
    client.sleep = lambda seconds: clock.__setitem__(0, clock[0] + seconds)
    api.script = [(429, {"Retry-After": "120"})]
    client.send(events(1))
    stamps = [
        signing.parse_header(headers["X-Usage-Signature"]).timestamp
        for headers, _b, _ok in api.requests
    ]
    assert stamps[1] - stamps[0] >= 120
    assert all(ok for _h, _b, ok in api.requests)


def test_5xx_and_a_dropped_connection_are_retried_with_growing_backoff(api, client, sleeps):
    api.script = [(500, None), (503, None), "drop"]
    summary = client.send(events(5))
    assert summary.requests == 4 and summary.retries == 3
    assert summary.accepted == 5 and summary.failed_batches == 0
    assert len(set(api.bodies)) == 1
    # Equal jitter around 0.5 s, 1 s, 2 s: never zero, never above the step.
    for delay, step in zip(sleeps, (0.5, 1, 2), strict=True):
        assert step / 2 <= delay <= step


def test_503_with_retry_after_is_honoured(api, client, sleeps):
    api.script = [(503, {"Retry-After": "2"})]
    assert client.send(events(1)).accepted == 1
    assert 2 <= sleeps[0] <= 3


def test_read_timeout_is_retried(api, sleeps):
    client = usage_client.UsageClient(api.url, KEY, SECRET, timeout=(1, 0.1), sleep=sleeps.append)
    api.script = ["slow"]
    summary = client.send(events(2))
    assert summary.retries == 1 and summary.accepted == 2
    assert len(set(api.bodies)) == 1


def test_backoff_is_capped(client):
    client.backoff_max = 30
    assert all(15 <= client._delay(attempt, None) <= 30 for attempt in range(6, 12))


def test_permanent_400_is_not_retried_and_later_batches_still_go(api, client, sleeps):
    api.script = [(400, None)]
    client.batch_size = 2
    summary = client.send(events(4))
    assert summary.requests == 2 and summary.retries == 0 and not sleeps
    assert summary.failed_batches == 1 and summary.accepted == 2
    assert summary.errors == [
        {
            "batch": 1,
            "events": 2,
            "first_event_id": "ev-0",
            "status": 400,
            "code": "invalid_json",
            "message": "HTTP 400: invalid_json",
        }
    ]


def test_wrong_secret_gets_401_once(api, sleeps):
    client = usage_client.UsageClient(api.url, KEY, "wrong", sleep=sleeps.append)
    summary = client.send(events(1))
    assert summary.requests == 1 and summary.errors[0]["status"] == 401 and not sleeps


def test_exhausted_retries_give_up_and_do_not_send_the_rest(api, sleeps):
    client = usage_client.UsageClient(api.url, KEY, SECRET, max_retries=2, sleep=sleeps.append)
    client.batch_size = 2
    api.script = [(503, None)] * 3
    summary = client.send(events(6))
    assert summary.requests == 3 and summary.retries == 2 and len(sleeps) == 2
    assert summary.failed_batches == 3  # the failed one and the two never sent
    assert [e["code"] for e in summary.errors] == ["oops", "not_sent"]


# ------------------------------------------------------------------------ reads


def test_reads_are_signed_gets_over_the_exact_target(api, client):
    assert client.usage("acme") == {"path": "/usage_billing/v1/tenants/acme/usage"}
    period = client.usage("acme", "2026-01-15T00:00:00+01:00")["path"]
    assert period == "/usage_billing/v1/tenants/acme/usage?period=2026-01-15T00%3A00%3A00%2B01%3A00"
    assert client.entitlements("a/b")["path"] == "/usage_billing/v1/tenants/a%2Fb/entitlements"
    page = client.invoices("acme", limit=2, starting_after="INV/2026/0003")["path"]
    assert (
        page == "/usage_billing/v1/tenants/acme/invoices?limit=2&starting_after=INV%2F2026%2F0003"
    )
    assert all(ok for _headers, _target, ok in api.requests), "each signature verified"


def test_reads_retry_429_and_report_permanent_errors(api, client, sleeps):
    api.script = [(429, {"Retry-After": "2"})]
    assert client.entitlements("acme")["path"].endswith("/entitlements")
    assert 2 <= sleeps[0] <= 3
    with pytest.raises(usage_client.ApiError) as err:
        client.usage("ghost")
    assert (err.value.status, err.value.code) == (404, "unknown_tenant")
