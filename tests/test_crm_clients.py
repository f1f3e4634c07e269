"""CRM wire clients against the fake CRM server over real HTTP.

The fake server ships with the addon's Odoo tests (``crm_sync_connector/tests``);
``conftest.py`` makes it importable without Odoo.
"""

import json
import re
import time
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from crm_sync_connector.core.clients import (
    DeliveryResult,
    HubSpotClient,
    OAuthConfig,
    RateLimiter,
    SalesforceClient,
    WebhookClient,
    shared_rate_limiter,
)
from crm_sync_connector.core.clients.salesforce import salesforce_value
from crm_sync_connector.tests.fake_crm_server import FakeCrmServer
from usage_billing_connector.core import signing
from usage_billing_connector.core.delivery.redact import REDACTED

# Short read timeout so that "timeout" faults cost 0.3 s, not 30.
TIMEOUT = (2.0, 0.3)
UPSERT = "/crm/v3/objects/companies/batch/upsert"
SF_DATA = "/services/data/v61.0"
SF_TOKEN = "/services/oauth2/token"


def no_jitter():
    return 0.5


@pytest.fixture
def crm():
    with FakeCrmServer() as server:
        yield server


@pytest.fixture
def hubspot(crm):
    with HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, rate_limit=None, timeout=TIMEOUT) as client:
        yield client


def sf_auth(crm, **overrides):
    values = {
        "token_url": crm.token_url,
        "client_id": crm.SF_CLIENT_ID,
        "client_secret": crm.SF_CLIENT_SECRET,
        **overrides,
    }
    return OAuthConfig(**values)


@pytest.fixture
def salesforce(crm):
    client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, timeout=TIMEOUT)
    with client:
        yield client


@pytest.fixture
def webhook(crm):
    with WebhookClient(crm.webhook_url, crm.WEBHOOK_SECRET, timeout=TIMEOUT) as client:
        yield client


def accounts(count, prefix="tenant", **properties):
    return [
        {"tenant": f"{prefix}-{i}", "properties": {"name": f"Tenant {i}", **properties}}
        for i in range(count)
    ]


def assert_never_contains(secret, *objects):
    for obj in objects:
        assert secret not in repr(obj), f"secret leaked in {obj!r}"


# -- HubSpot -----------------------------------------------------------------------


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


# -- Salesforce ----------------------------------------------------------------------


def test_salesforce_upsert_creates_account_by_external_id(crm, salesforce):
    result = salesforce.upsert_account("acme/eu 1", {"Name": "Acme", "MRR__c": Decimal("99.5")})

    assert result.ok and result.status == 201
    account = crm.sf_accounts["acme/eu 1"]
    assert result.external_ids == {"acme/eu 1": account["Id"]}
    assert account == {
        "Id": account["Id"],
        "Tenant_Id__c": "acme/eu 1",
        "Name": "Acme",
        "MRR__c": 99.5,  # a JSON number: Salesforce number fields refuse strings
    }
    (token_request,) = crm.requests_to(SF_TOKEN)
    assert token_request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [crm.SF_CLIENT_ID],
        "client_secret": [crm.SF_CLIENT_SECRET],
    }
    (patch,) = crm.requests_to(SF_DATA, method="PATCH")
    assert patch.path == f"{SF_DATA}/sobjects/Account/Tenant_Id__c/acme%2Feu%201"
    assert patch.header("Authorization") == f"Bearer {next(iter(crm.sf_issued_tokens))}"


def test_salesforce_update_keeps_one_account_and_newest_state_wins(crm, salesforce):
    created = salesforce.upsert_account("acme", {"Name": "Acme", "Plan__c": "starter"})
    updated = salesforce.upsert_account("acme", {"Plan__c": "pro", "Tenant_Id__c": "ignored"})

    assert updated.ok and updated.status == 200
    assert updated.external_ids == created.external_ids
    assert list(crm.sf_accounts) == ["acme"]
    assert crm.sf_accounts["acme"]["Plan__c"] == "pro"
    assert crm.sf_accounts["acme"]["Name"] == "Acme"
    assert "Tenant_Id__c" not in crm.requests_to(SF_DATA, method="PATCH")[1].json()
    assert crm.sf_token_requests == 1  # the token is reused


def test_salesforce_204_update_looks_the_id_up():
    with FakeCrmServer(sf_update_status=204) as crm:
        client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None)
        created = client.upsert_account("acme", {"Name": "Acme"})
        updated = client.upsert_account("acme", {"Name": "Acme Inc"})
    assert updated.ok
    assert updated.external_ids == created.external_ids
    assert [a.status for a in updated.attempts] == [204, 200]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("100.00"), 100), (Decimal("12.345"), 12.345), ("text", "text"), (None, None)],
)
def test_salesforce_numbers_are_sent_as_json_numbers(value, expected):
    converted = salesforce_value(value)
    assert converted == expected and type(converted) is type(expected)


def test_salesforce_refresh_token_grant(crm):
    auth = sf_auth(crm, grant="refresh_token", refresh_token=crm.SF_REFRESH_TOKEN)
    client = SalesforceClient(crm.url, auth, rate_limit=None)
    assert client.upsert_account("acme", {"Name": "Acme"}).ok
    form = parse_qs(crm.requests_to(SF_TOKEN)[0].body.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == [crm.SF_REFRESH_TOKEN]


def test_oauth_config_validation_and_repr_hides_secrets(crm):
    with pytest.raises(ValueError, match="refresh token"):
        sf_auth(crm, grant="refresh_token")
    with pytest.raises(ValueError, match="grant"):
        sf_auth(crm, grant="password")
    auth = sf_auth(crm, grant="refresh_token", refresh_token=crm.SF_REFRESH_TOKEN)
    assert_never_contains(crm.SF_CLIENT_SECRET, auth)
    assert_never_contains(crm.SF_REFRESH_TOKEN, auth)


def test_salesforce_expired_session_refreshes_exactly_once_then_succeeds(crm, salesforce):
    assert salesforce.upsert_account("acme", {"Name": "Acme"}).ok
    old_token = next(iter(crm.sf_issued_tokens))
    crm.inject(SF_DATA, "expire_token")

    result = salesforce.upsert_account("acme", {"Name": "Acme 2"})

    assert result.ok and result.status == 200
    assert crm.sf_token_requests == 2  # the first token, then exactly one refresh
    assert salesforce.token_requests == 2
    assert [(a.method, a.status) for a in result.attempts] == [
        ("PATCH", 401),
        ("POST", 200),
        ("PATCH", 200),
    ]
    assert crm.sf_accounts["acme"]["Name"] == "Acme 2"
    assert len(crm.sf_accounts) == 1
    assert crm.requests_to(SF_DATA)[-1].header("Authorization") != f"Bearer {old_token}"


def test_salesforce_second_401_is_permanent_without_refresh_loop(crm, salesforce):
    crm.inject(SF_DATA, "expire_token", count=2)

    result = salesforce.upsert_account("acme", {"Name": "Acme"})

    assert (result.ok, result.status, result.retryable) == (False, 401, False)
    assert "INVALID_SESSION_ID" in result.error
    assert crm.sf_token_requests == 2
    assert crm.sf_accounts == {}


def test_salesforce_bad_client_secret_is_permanent_and_not_leaked(crm):
    auth = sf_auth(crm, client_secret="wrong-secret-0123456789")
    client = SalesforceClient(crm.url, auth, rate_limit=None)

    result = client.upsert_account("acme", {"Name": "Acme"})

    assert (result.ok, result.status, result.retryable) == (False, 400, False)
    assert "invalid_client" in result.error
    assert crm.requests_to(SF_DATA) == []
    assert_never_contains("wrong-secret-0123456789", result, result.attempts, client, auth)


def test_salesforce_token_endpoint_down_is_retryable(crm, salesforce):
    crm.inject(SF_TOKEN, "status", status=503, retry_after=30)
    result = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (result.status, result.retryable, result.retry_after) == (503, True, 30)


def test_salesforce_token_response_without_access_token_is_retryable(crm, salesforce):
    crm.inject(SF_TOKEN, "status", status=200, body={"instance_url": crm.url})
    result = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (result.ok, result.retryable) == (False, True)
    assert "no access_token" in result.error


def test_salesforce_token_cache_callbacks_share_the_token(crm):
    cache = {}

    def save(token):
        cache["token"] = token

    first = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, save_token=save)
    assert first.upsert_account("acme", {"Name": "Acme"}).ok
    assert cache["token"]["instance_url"] == crm.url

    second = SalesforceClient(
        crm.url,
        sf_auth(crm),
        rate_limit=None,
        load_token=lambda: cache.get("token"),
        save_token=save,
    )
    assert second.upsert_account("acme", {"Name": "Acme 2"}).ok
    assert crm.sf_token_requests == 1  # the second worker reused the cached token


def test_salesforce_stale_cached_token_is_refreshed_and_saved(crm):
    stale = {"access_token": "00DFAKE!stale-token-from-yesterday"}  # instance: base_url
    saved = []
    client = SalesforceClient(
        crm.url, sf_auth(crm), rate_limit=None, load_token=lambda: stale, save_token=saved.append
    )

    result = client.upsert_account("acme", {"Name": "Acme"})

    assert result.ok
    assert crm.sf_token_requests == 1
    assert saved and saved[0]["access_token"] != stale["access_token"]
    assert_never_contains(stale["access_token"], result, result.attempts)


@pytest.mark.parametrize("status", [429, 503])
def test_salesforce_throttling_is_retryable_with_retry_after(crm, salesforce, status):
    crm.inject(SF_DATA, "status", status=status, retry_after=12)
    result = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (result.status, result.retryable, result.retry_after) == (status, True, 12)


def test_salesforce_500_is_retryable(crm, salesforce):
    crm.inject(SF_DATA, "status", status=500, code="UNKNOWN_EXCEPTION")
    result = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (result.status, result.retryable) == (500, True)
    assert "UNKNOWN_EXCEPTION" in result.error


def test_salesforce_invalid_field_is_permanent_with_the_salesforce_message(crm, salesforce):
    result = salesforce.upsert_account("acme", {"Bad Field!": "x"})
    assert (result.ok, result.status, result.retryable) == (False, 400, False)
    assert result.error == (
        "HTTP 400: INVALID_FIELD: No such column 'Bad Field!' on Account (fields: Bad Field!)"
    )


@pytest.mark.parametrize(
    ("status", "code"), [(400, "UNABLE_TO_LOCK_ROW"), (403, "REQUEST_LIMIT_EXCEEDED")]
)
def test_salesforce_temporary_error_codes_are_retryable(crm, salesforce, status, code):
    crm.inject(SF_DATA, "status", status=status, code=code)
    result = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (result.status, result.retryable) == (status, True)


def test_salesforce_timeout_is_retryable_and_the_retry_keeps_one_account(crm, salesforce):
    crm.inject(SF_DATA, "timeout")
    lost = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (lost.ok, lost.status, lost.retryable) == (False, None, True)

    retried = salesforce.upsert_account("acme", {"Name": "Acme"})

    assert retried.ok and retried.status == 200  # an update: the lost write did happen
    assert len(crm.sf_accounts) == 1


def test_salesforce_malformed_2xx_is_retryable(crm, salesforce):
    crm.inject(SF_DATA, "malformed", status=201)
    result = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert (result.ok, result.status, result.retryable) == (False, 201, True)
    assert salesforce.upsert_account("acme", {"Name": "Acme"}).ok
    assert len(crm.sf_accounts) == 1


def test_salesforce_near_api_limit_backs_off_longer():
    with FakeCrmServer(sf_api_max=20) as crm:
        client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None)
        for _ in range(17):
            assert client.upsert_account("acme", {"Name": "Acme"}).ok
        crm.inject(SF_DATA, "status", status=500, count=2)
        at_90_percent = client.upsert_account("acme", {"Name": "Acme"})
        at_95_percent = client.upsert_account("acme", {"Name": "Acme"})

    assert at_90_percent.headers == {"Sforce-Limit-Info": "api-usage=18/20"}
    assert at_90_percent.next_delay(1, rng=no_jitter) == 30  # normal schedule
    assert at_95_percent.headers == {"Sforce-Limit-Info": "api-usage=19/20"}
    assert at_95_percent.next_delay(1, rng=no_jitter) == 120  # four times longer


def test_salesforce_create_task_by_tenant_looks_the_account_up(crm, salesforce):
    account_id = salesforce.upsert_account("acme", {"Name": "Acme"}).external_ids["acme"]

    result = salesforce.create_task("acme", "Usage alert", "90% of allowance used", Priority="High")

    assert result.ok and result.status == 201
    (task,) = crm.sf_tasks
    assert result.remote_id == task["Id"]
    assert task["WhatId"] == account_id
    assert (task["Subject"], task["Description"], task["Priority"]) == (
        "Usage alert",
        "90% of allowance used",
        "High",
    )
    lookup = crm.requests_to(f"{SF_DATA}/sobjects/Account", method="GET")[0]
    assert lookup.query == {"fields": ["Id"]}


def test_salesforce_create_task_with_account_id_skips_the_lookup(crm, salesforce):
    account_id = salesforce.upsert_account("acme", {"Name": "Acme"}).external_ids["acme"]
    result = salesforce.create_task(account_id, "Overdue", "Invoice overdue")
    assert result.ok
    assert crm.requests_to(f"{SF_DATA}/sobjects/Account", method="GET") == []


def test_salesforce_task_for_unknown_tenant_is_permanent(crm, salesforce):
    result = salesforce.create_task("nobody", "Usage alert", "...")
    assert (result.ok, result.status, result.retryable) == (False, 404, False)
    assert "NOT_FOUND" in result.error
    assert crm.sf_tasks == []


def test_salesforce_find_account_id(crm, salesforce):
    created = salesforce.upsert_account("acme", {"Name": "Acme"})
    assert salesforce.find_account_id("acme").external_ids == created.external_ids
    assert salesforce.find_account_id("nobody").status == 404


def test_salesforce_test_connection(crm, salesforce):
    result = salesforce.test_connection()
    assert result.ok
    assert crm.requests_to(f"{SF_DATA}/limits")
    bad = SalesforceClient(crm.url, sf_auth(crm, client_id="nope"), rate_limit=None)
    assert not bad.test_connection().ok


def test_salesforce_tokens_and_secrets_never_appear_in_logs(crm, salesforce):
    salesforce.upsert_account("acme", {"Name": "Acme"})
    first_token = next(iter(crm.sf_issued_tokens))
    crm.inject(SF_DATA, "expire_token")
    refreshed = salesforce.upsert_account("acme", {"Name": "Acme"})
    new_token = next(iter(crm.sf_issued_tokens))
    echo = f"session {new_token} client_secret={crm.SF_CLIENT_SECRET}"
    crm.inject(SF_DATA, "status", status=500, body=[{"errorCode": "X", "message": echo}])
    failed = salesforce.upsert_account("acme", {"Name": "Acme"})

    assert failed.error == f"HTTP 500: X: session {REDACTED} client_secret={REDACTED}"
    for secret in (first_token, new_token, crm.SF_CLIENT_SECRET):
        assert_never_contains(secret, refreshed, failed, salesforce)


# -- webhook ---------------------------------------------------------------------


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


# -- attempts, rate limiting, redaction --------------------------------------------------


def test_credentials_in_a_configured_url_are_redacted(crm):
    """Some receivers authenticate webhooks with a token in the query string."""
    client = WebhookClient(crm.webhook_url + "?access_token=leaky-query-token", crm.WEBHOOK_SECRET)
    result = client.send("account.updated", "acme", "2025-03-01T12:00:00Z", {})
    assert result.ok
    assert crm.requests_to("/webhook")[0].query == {"access_token": ["leaky-query-token"]}
    assert result.attempts[0].url.endswith("/webhook?access_token=[REDACTED]")
    assert_never_contains("leaky-query-token", result, client)


def test_long_error_bodies_are_truncated(crm, hubspot):
    crm.inject(UPSERT, "status", status=502, body={"message": "x" * 5000})
    result = hubspot.upsert_companies(accounts(1))
    assert len(result.error) == 500 and result.error.endswith("…")


def test_html_error_page_from_a_proxy_is_kept_as_text(crm, hubspot):
    crm.inject(UPSERT, "status", status=502, body=b"<html>Bad gateway</html>")
    result = hubspot.upsert_companies(accounts(1))
    assert (result.status, result.retryable) == (502, True)
    assert result.error == "HTTP 502: <html>Bad gateway</html>"


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_allows_a_burst_then_spaces_requests():
    clock = FakeClock()
    limiter = RateLimiter(2, burst=2, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0, 0, 0.5, 0.5, 0.5]
    assert clock.now == pytest.approx(1.5)


def test_rate_limiter_refills_while_idle_up_to_the_burst():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire()
    clock.now += 60  # idle for a minute: only `burst` tokens come back
    assert [limiter.acquire() for _ in range(10)] == [0] * 10
    assert limiter.acquire() == pytest.approx(0.1)


def test_rate_limiter_rejects_nonsense():
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, burst=0.5)


def test_shared_rate_limiter_is_one_bucket_per_key():
    first = shared_rate_limiter(("hubspot", 1), 5)
    assert shared_rate_limiter(("hubspot", 1), 5) is first
    assert shared_rate_limiter(("hubspot", 2), 5) is not first
    assert shared_rate_limiter(("hubspot", 1), 7).rate == 7


def test_clients_wait_for_the_rate_limiter_before_every_request(crm):
    clock = FakeClock()
    limiter = RateLimiter(1, burst=1, clock=clock, sleep=clock.sleep)
    client = HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, rate_limit=limiter)
    assert client.upsert_companies(accounts(250)).ok
    assert clock.slept == [1.0, 1.0]  # three chunks: the first from the burst


def test_every_request_carries_the_connect_and_read_timeout(crm):
    seen = []

    class RecordingSession:
        def request(self, method, url, **kwargs):
            seen.append(kwargs["timeout"])
            raise ConnectionRefusedError("refused")

        def close(self):
            pass

    client = HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, timeout=(3, 7), session=RecordingSession())
    result = client.upsert_companies(accounts(1))
    assert seen == [(3.0, 7.0)]
    assert (result.ok, result.retryable) == (False, True)


def test_delivery_result_next_delay_uses_the_schedule_without_hints():
    result = DeliveryResult(ok=False, status=None, retryable=True)
    assert result.next_delay(1, rng=no_jitter) == 30
    assert result.next_delay(3, base=10, rng=no_jitter) == 40
    assert json.dumps(result.headers) == "{}"
