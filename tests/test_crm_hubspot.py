"""HubSpot client against the fake CRM server over real HTTP."""

import re
import time
from decimal import Decimal

import pytest
from crm_helpers import (
    UPSERT,
    account_update,
    accounts,
    assert_never_contains,
    no_jitter,
    usage_alert,
)

from crm_sync_connector.core.clients import HubSpotClient
from crm_sync_connector.core.clients.hubspot import note_html
from crm_sync_connector.tests.fake_crm_server import FakeCrmServer
from usage_billing_connector.core.delivery.redact import REDACTED


def test_hubspot_upsert_sends_batch_upsert_and_maps_tenants_to_company_ids(crm, hubspot):
    result = hubspot.upsert_companies(
        [
            {
                "tenant": "acme",
                "properties": {"name": "Acme", "mrr": Decimal("99.50"), "active": True},
            },
            {"tenant": "globex", "properties": {"name": "Globex", "plan": None}},
        ]
    )

    assert result.ok and result.status == 200 and result.error is None
    companies = crm.hubspot_companies
    assert result.external_ids == {
        "acme": companies["acme"]["id"],
        "globex": companies["globex"]["id"],
    }
    (request,) = crm.requests_to(UPSERT)
    assert request.method == "POST"
    assert request.header("Authorization") == f"Bearer {crm.HUBSPOT_TOKEN}"
    assert request.header("Content-Type") == "application/json"
    assert request.json()["inputs"][0] == {
        "idProperty": "tenant_id",
        "id": "acme",
        "properties": {"name": "Acme", "mrr": "99.50", "active": "true", "tenant_id": "acme"},
    }
    assert companies["globex"]["properties"]["plan"] == ""
    assert [a.status for a in result.attempts] == [200]
    assert result.duration_ms == result.attempts[0].duration_ms


def test_hubspot_custom_id_property(crm):
    client = HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, id_property="usage_ref", rate_limit=None)
    result = client.upsert_companies(accounts(1))
    assert result.ok
    assert crm.hubspot_companies["tenant-0"]["idProperty"] == "usage_ref"
    assert crm.requests_to(UPSERT)[0].json()["inputs"][0]["idProperty"] == "usage_ref"


def test_hubspot_upsert_is_chunked_by_100(crm, hubspot):
    result = hubspot.upsert_companies(accounts(250))

    assert result.ok
    assert [len(r.json()["inputs"]) for r in crm.requests_to(UPSERT)] == [100, 100, 50]
    assert len(crm.hubspot_companies) == 250
    assert len(set(result.external_ids.values())) == 250
    assert len(result.attempts) == 3


def test_hubspot_replay_keeps_one_company_per_tenant_and_newest_state_wins(crm, hubspot):
    first = hubspot.upsert_companies(accounts(3, plan="starter", seats="5"))
    second = hubspot.upsert_companies(
        [{"tenant": "tenant-1", "properties": {"plan": "pro"}}, *accounts(3)[::2]]
    )

    assert second.ok
    assert len(crm.hubspot_companies) == 3
    assert second.external_ids == first.external_ids
    properties = crm.hubspot_companies["tenant-1"]["properties"]
    assert properties["plan"] == "pro"  # newest state wins
    assert properties["seats"] == "5"  # properties not sent are left alone


def test_hubspot_same_tenant_twice_in_one_call_sends_only_its_last_state(crm, hubspot):
    result = hubspot.upsert_companies(
        [
            {"tenant": "acme", "properties": {"plan": "starter"}},
            {"tenant": "globex", "properties": {"plan": "pro"}},
            {"tenant": "acme", "properties": {"plan": "enterprise"}},
        ]
    )
    assert result.ok
    inputs = crm.requests_to(UPSERT)[0].json()["inputs"]
    assert [item["id"] for item in inputs] == ["globex", "acme"]
    assert crm.hubspot_companies["acme"]["properties"]["plan"] == "enterprise"


def test_hubspot_nothing_to_upsert_sends_nothing(crm, hubspot):
    assert hubspot.upsert_companies([]).ok
    assert crm.requests == []


def test_hubspot_429_is_retryable_with_retry_after(crm, hubspot):
    crm.inject("/crm/v3/objects/companies", "status", status=429, retry_after=7)

    result = hubspot.upsert_companies(accounts(2))

    assert not result.ok
    assert (result.status, result.retryable, result.retry_after) == (429, True, 7.0)
    assert result.next_delay(1) == 7
    assert crm.hubspot_companies == {}


def test_hubspot_rate_limit_window_headers_set_retry_after(crm, hubspot):
    headers = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    crm.inject(UPSERT, "status", status=429, headers=headers)
    result = hubspot.upsert_companies(accounts(1))
    assert result.retryable and result.retry_after == 10
    assert result.next_delay(4) == 10


def test_hubspot_500_is_retryable_and_follows_the_schedule(crm, hubspot):
    crm.inject(UPSERT, "status", status=500)
    result = hubspot.upsert_companies(accounts(1))
    assert (result.status, result.retryable, result.retry_after) == (500, True, None)
    assert result.next_delay(2, rng=no_jitter) == 60


def test_hubspot_400_is_permanent_with_the_hubspot_message(crm, hubspot):
    body = {
        "status": "error",
        "message": "Property values were not valid",
        "category": "VALIDATION_ERROR",
    }
    crm.inject(UPSERT, "status", status=400, body=body)
    result = hubspot.upsert_companies(accounts(1))
    assert (result.ok, result.status, result.retryable) == (False, 400, False)
    assert result.error == "HTTP 400: VALIDATION_ERROR: Property values were not valid"


def test_hubspot_wrong_token_is_permanent_and_not_leaked(crm):
    client = HubSpotClient(crm.url, "pat-na1-wrong-token-zzzzzzzz", rate_limit=None)
    result = client.upsert_companies(accounts(1))
    assert (result.ok, result.status, result.retryable) == (False, 401, False)
    assert "INVALID_AUTHENTICATION" in result.error
    assert_never_contains("pat-na1-wrong-token-zzzzzzzz", result, result.attempts)


def test_hubspot_timeout_is_retryable_and_the_retry_keeps_one_company(crm, hubspot):
    crm.inject(UPSERT, "timeout")  # the server writes, the answer is lost

    started = time.monotonic()
    lost = hubspot.upsert_companies(accounts(3))
    assert time.monotonic() - started < 1.5  # the read timeout, not the server's delay

    assert (lost.ok, lost.status, lost.retryable) == (False, None, True)
    assert "Timeout" in lost.error
    assert lost.attempts[0].error.startswith("ReadTimeout")
    assert len(crm.hubspot_companies) == 3  # the write did happen

    retried = hubspot.upsert_companies(accounts(3))
    assert retried.ok
    assert len(crm.hubspot_companies) == 3
    assert set(retried.external_ids) == {"tenant-0", "tenant-1", "tenant-2"}


def test_hubspot_slow_answer_within_timeout_succeeds(crm, hubspot):
    crm.inject(UPSERT, "slow", seconds=0.1)
    result = hubspot.upsert_companies(accounts(1))
    assert result.ok
    assert result.duration_ms >= 90


def test_hubspot_malformed_2xx_is_retryable_and_retry_keeps_one_company(crm, hubspot):
    crm.inject(UPSERT, "malformed")

    result = hubspot.upsert_companies(accounts(2))

    assert (result.ok, result.status, result.retryable) == (False, 200, True)
    assert "malformed" in result.error
    assert result.external_ids == {}
    assert hubspot.upsert_companies(accounts(2)).ok
    assert len(crm.hubspot_companies) == 2


def test_hubspot_connection_dropped_is_retryable(crm, hubspot):
    crm.inject(UPSERT, "disconnect", apply=False)
    result = hubspot.upsert_companies(accounts(1))
    assert (result.ok, result.status, result.retryable) == (False, None, True)
    assert "ConnectionError" in result.error
    assert crm.hubspot_companies == {}


def test_hubspot_server_unreachable_is_retryable():
    with FakeCrmServer() as server:
        url = server.url
    result = HubSpotClient(url, "pat-na1-some-token-1234", rate_limit=None).upsert_companies(
        accounts(1)
    )
    assert (result.ok, result.retryable) == (False, True)


def test_hubspot_failing_chunk_stops_and_keeps_ids_of_earlier_chunks(crm, hubspot):
    crm.inject(UPSERT, "slow", seconds=0.01)  # consumed by the first chunk
    crm.inject(UPSERT, "status", status=503)  # the second chunk fails

    result = hubspot.upsert_companies(accounts(250))

    assert (result.ok, result.status, result.retryable) == (False, 503, True)
    assert len(result.external_ids) == 100
    assert [a.status for a in result.attempts] == [200, 503]
    assert len(crm.requests_to(UPSERT)) == 2  # the third chunk was not sent


def test_hubspot_partial_batch_failure_is_permanent_and_reports_the_others():
    with FakeCrmServer(hubspot_property_names={"name", "tenant_id"}) as crm:
        client = HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, rate_limit=None)
        result = client.upsert_companies(
            [
                {"tenant": "good", "properties": {"name": "Good"}},
                {"tenant": "bad", "properties": {"name": "Bad", "no_such_prop": "x"}},
            ]
        )
    assert (result.ok, result.status, result.retryable) == (False, 207, False)
    assert result.external_ids == {"good": crm.hubspot_companies["good"]["id"]}
    assert "no_such_prop" in result.error


def test_hubspot_create_note_associates_it_with_the_company(crm, hubspot):
    company_id = hubspot.upsert_companies(accounts(1)).external_ids["tenant-0"]

    result = hubspot.create_note(company_id, "<b>Usage</b> above 90% of allowance")

    assert result.ok and result.status == 201
    (note,) = crm.hubspot_notes
    assert result.remote_id == note["id"]
    assert note["company_ids"] == [company_id]
    assert note["properties"]["hs_note_body"] == "<b>Usage</b> above 90% of allowance"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", note["properties"]["hs_timestamp"]
    )
    association = crm.requests_to("/crm/v3/objects/notes")[0].json()["associations"][0]
    assert association["types"] == [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}
    ]


def test_hubspot_note_on_unknown_company_is_permanent(crm, hubspot):
    result = hubspot.create_note("987654", "hello")
    assert (result.ok, result.status, result.retryable) == (False, 400, False)
    assert crm.hubspot_notes == []


def test_hubspot_test_connection(crm, hubspot):
    assert hubspot.test_connection().ok
    (request,) = crm.requests_to("/crm/v3/objects/companies", method="GET")
    assert request.query == {"limit": ["1"]}
    bad = HubSpotClient(crm.url, "pat-na1-wrong-token-zzzzzzzz", rate_limit=None)
    assert bad.test_connection().status == 401


def test_hubspot_token_echoed_by_the_server_is_redacted(crm, hubspot):
    echo = {"message": f"token {crm.HUBSPOT_TOKEN} has expired, Bearer {crm.HUBSPOT_TOKEN}"}
    crm.inject(UPSERT, "status", status=500, body=echo)
    result = hubspot.upsert_companies(accounts(1))
    assert REDACTED in result.error
    assert_never_contains(crm.HUBSPOT_TOKEN, result, result.attempts, hubspot)


def test_hubspot_requires_a_token():
    with pytest.raises(ValueError):
        HubSpotClient("https://api.hubapi.com", "")


# -- interface: push_updates, push_alert ---------------------------------------------


def test_hubspot_push_updates_one_result_per_update_shared_per_batch(crm, hubspot):
    updates = [account_update(f"tenant-{i}", plan="growth") for i in range(150)]

    results = hubspot.push_updates(updates)

    assert [len(r.json()["inputs"]) for r in crm.requests_to(UPSERT)] == [100, 50]
    assert len(results) == len(updates)
    assert all(result.ok for result in results)
    for update, result in zip(updates, results, strict=True):
        company_id = crm.hubspot_companies[update.tenant]["id"]
        assert result.external_ids[update.tenant] == company_id
    first, second = results[0], results[100]
    assert all(result is first for result in results[:100])
    assert all(result is second for result in results[100:])
    assert first is not second
    assert len(first.external_ids) == 100 and len(second.external_ids) == 50
    assert [len(first.attempts), len(second.attempts)] == [1, 1]


def test_hubspot_push_updates_of_one_tenant_twice_send_its_last_state(crm, hubspot):
    updates = [
        account_update("acme", plan="starter"),
        account_update("globex", plan="pro"),
        account_update("acme", plan="enterprise"),
    ]

    results = hubspot.push_updates(updates)

    assert results[0] is results[1] is results[2]
    assert results[0].ok
    (request,) = crm.requests_to(UPSERT)
    assert [item["id"] for item in request.json()["inputs"]] == ["globex", "acme"]
    assert crm.hubspot_companies["acme"]["properties"]["plan"] == "enterprise"


def test_hubspot_push_updates_after_a_failing_batch_are_not_sent_and_retryable(crm, hubspot):
    crm.inject(UPSERT, "slow", seconds=0.01)  # consumed by the first batch
    crm.inject(UPSERT, "status", status=503, retry_after=20)  # the second batch fails

    results = hubspot.push_updates([account_update(f"tenant-{i}") for i in range(250)])

    assert len(crm.requests_to(UPSERT)) == 2
    assert all(result.ok for result in results[:100])
    failed, unsent = results[100], results[200]
    assert (failed.ok, failed.status, failed.retryable) == (False, 503, True)
    assert (unsent.ok, unsent.status, unsent.retryable) == (False, None, True)
    assert failed.retry_after == unsent.retry_after == 20
    assert unsent.attempts == [] and unsent.error.startswith("not sent")
    assert all(result is failed for result in results[100:200])
    assert all(result is unsent for result in results[200:])


def test_hubspot_push_no_updates_sends_nothing(crm, hubspot):
    assert hubspot.push_updates([]) == []
    assert crm.requests == []


def test_hubspot_push_alert_escapes_everything_in_the_note(crm, hubspot):
    alert = usage_alert(
        "acme",
        subject="<script>alert(1)</script> Usage & co",
        body='Usage > 90% of "allowance"\n<b>act</b> & renew',
        usage_alert_level="90",
    )

    result = hubspot.push_alert(alert)

    assert result.ok and result.status == 201
    company = crm.hubspot_companies["acme"]
    assert company["properties"]["usage_alert_level"] == "90"
    (note,) = crm.hubspot_notes
    assert note["properties"]["hs_note_body"] == (
        "<p><b>&lt;script&gt;alert(1)&lt;/script&gt; Usage &amp; co</b></p>"
        "<p>Usage &gt; 90% of &quot;allowance&quot;<br>&lt;b&gt;act&lt;/b&gt; &amp; renew</p>"
    )
    assert note["company_ids"] == [company["id"]]
    assert result.remote_id == note["id"]
    assert result.external_ids == {"acme": company["id"]}
    assert [(a.method, a.status) for a in result.attempts] == [("POST", 200), ("POST", 201)]
    assert result.duration_ms == sum(a.duration_ms for a in result.attempts)


def test_hubspot_push_alert_stops_when_the_company_upsert_fails(crm, hubspot):
    crm.inject(UPSERT, "status", status=429, retry_after=5)
    result = hubspot.push_alert(usage_alert("acme"))
    assert (result.ok, result.status, result.retry_after) == (False, 429, 5)
    assert crm.requests_to("/crm/v3/objects/notes") == []


def test_hubspot_push_alert_failed_note_keeps_both_attempts_and_the_company(crm, hubspot):
    crm.inject("/crm/v3/objects/notes", "status", status=500)
    result = hubspot.push_alert(usage_alert("acme"))
    assert (result.ok, result.status, result.retryable) == (False, 500, True)
    assert [a.status for a in result.attempts] == [200, 500]
    assert result.external_ids == {"acme": crm.hubspot_companies["acme"]["id"]}
    assert result.remote_id is None


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        ("A & B", "x < y", "<p><b>A &amp; B</b></p><p>x &lt; y</p>"),
        ("'q'", "one\r\ntwo\nthree", "<p><b>&#x27;q&#x27;</b></p><p>one<br>two<br>three</p>"),
        ("", "", "<p><b></b></p><p></p>"),
    ],
)
def test_hubspot_note_html(subject, body, expected):
    assert note_html(subject, body) == expected


def test_hubspot_note_dated_by_the_caller_and_logged_calls_use_upper_case_methods(crm, hubspot):
    company_id = hubspot.upsert_companies(accounts(1)).external_ids["tenant-0"]
    note = hubspot.create_note(company_id, "n", timestamp="2025-03-01T12:00:00Z")
    assert crm.hubspot_notes[0]["properties"]["hs_timestamp"] == "2025-03-01T12:00:00Z"
    assert [a.method for a in note.attempts] == ["POST"]
    assert [a.method for a in hubspot.test_connection().attempts] == ["GET"]


def test_hubspot_note_answer_without_an_id_is_a_failure(crm, hubspot):
    crm.inject("/crm/v3/objects/notes", "status", status=201, body={"properties": {}})
    result = hubspot.create_note("123", "n")
    assert (result.ok, result.status, result.remote_id) == (False, 201, None)
