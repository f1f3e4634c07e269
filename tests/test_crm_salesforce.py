"""Salesforce client against the fake CRM server over real HTTP."""

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from crm_helpers import (
    SF_DATA,
    SF_TOKEN,
    account_update,
    assert_never_contains,
    no_jitter,
    sf_auth,
    usage_alert,
)

from crm_sync_connector.core.clients import SalesforceClient
from crm_sync_connector.core.clients.salesforce import salesforce_value
from crm_sync_connector.tests.fake_crm_server import FakeCrmServer
from usage_billing_connector.core.delivery.redact import REDACTED


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


# -- interface: push_updates, push_alert ---------------------------------------------


def test_salesforce_push_updates_one_upsert_and_one_result_per_update(crm, salesforce):
    updates = [account_update("acme", Plan__c="pro"), account_update("globex", Plan__c="starter")]

    results = salesforce.push_updates(updates)

    assert [result.ok for result in results] == [True, True]
    assert results[0] is not results[1]
    for update, result in zip(updates, results, strict=True):
        assert result.external_ids == {update.tenant: crm.sf_accounts[update.tenant]["Id"]}
    patches = crm.requests_to(SF_DATA, method="PATCH")
    assert [request.path.rsplit("/", 1)[1] for request in patches] == ["acme", "globex"]
    assert crm.sf_accounts["globex"]["Plan__c"] == "starter"


def test_salesforce_push_updates_failure_stays_with_its_update(crm, salesforce):
    crm.inject(f"{SF_DATA}/sobjects/Account/Tenant_Id__c/acme", "status", status=400)
    results = salesforce.push_updates([account_update("acme"), account_update("globex")])
    assert [(result.ok, result.status) for result in results] == [(False, 400), (True, 201)]


def test_salesforce_push_alert_combines_upsert_and_task_in_a_new_result(crm, salesforce):
    result = salesforce.push_alert(usage_alert("acme", subject="Usage", body="90%", Name="Acme"))

    assert result.ok and result.status == 201
    account = crm.sf_accounts["acme"]
    assert account["Name"] == "Acme"
    (task,) = crm.sf_tasks
    assert (task["WhatId"], task["Subject"], task["Description"]) == (account["Id"], "Usage", "90%")
    assert task["Priority"] == "High"
    assert result.remote_id == task["Id"]
    assert result.external_ids == {"acme": account["Id"]}
    assert [(a.method, a.url.rsplit("/", 1)[1], a.status) for a in result.attempts] == [
        ("POST", "token", 200),
        ("PATCH", "acme", 201),
        ("POST", "Task", 201),
    ]
    assert result.duration_ms == sum(a.duration_ms for a in result.attempts)


def test_salesforce_push_alert_stops_when_the_upsert_fails(crm, salesforce):
    crm.inject(f"{SF_DATA}/sobjects/Account", "status", status=503, retry_after=12)

    result = salesforce.push_alert(usage_alert("acme"))

    assert (result.ok, result.status, result.retry_after) == (False, 503, 12)
    assert result.remote_id is None
    assert [a.status for a in result.attempts] == [200, 503]  # token, upsert
    assert crm.requests_to(f"{SF_DATA}/sobjects/Task") == []


def test_salesforce_push_alert_failed_task_keeps_both_calls(crm, salesforce):
    crm.inject(f"{SF_DATA}/sobjects/Task", "status", status=500, code="UNKNOWN_EXCEPTION")

    result = salesforce.push_alert(usage_alert("acme"))

    assert (result.ok, result.status, result.retryable) == (False, 500, True)
    assert [a.status for a in result.attempts] == [200, 201, 500]
    assert result.external_ids == {"acme": crm.sf_accounts["acme"]["Id"]}
    assert crm.sf_tasks == []
