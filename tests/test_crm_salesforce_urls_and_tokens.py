"""Salesforce: which URL a request goes to and which token it carries.

The instance URL comes from the token answer or the shared token cache, not from
the configured base URL; a worker reuses a token another one cached.  Also the
lookups after an update answered 204.  Against the fake CRM over real HTTP.
"""

import pytest
from crm_helpers import SF_DATA, sf_auth

from crm_sync_connector.core.clients import SalesforceClient
from crm_sync_connector.tests.fake_crm_server import FakeCrmServer

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers


def test_salesforce_204_update_whose_id_lookup_fails_is_still_a_success_without_the_id():
    with FakeCrmServer(sf_update_status=204) as crm:
        client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None)
        client.upsert_account("acme", {"Name": "Acme"})
        crm.inject(SF_DATA, "slow", seconds=0.01)  # the update itself goes through
        crm.inject(SF_DATA, "status", status=500)  # the lookup of its id fails
        updated = client.upsert_account("acme", {"Name": "Acme Inc"})
    assert (updated.ok, updated.status, updated.external_ids) == (True, 204, {})
    assert [a.status for a in updated.attempts] == [204, 500]
    assert updated.duration_ms == sum(a.duration_ms for a in updated.attempts)
    assert crm.sf_accounts["acme"]["Name"] == "Acme Inc"


def test_salesforce_lookups_are_logged_as_get(crm, salesforce):
    salesforce.upsert_account("acme", {"Name": "Acme"})
    found = salesforce.find_account_id("acme")
    assert found.ok
    assert [a.method for a in found.attempts] == ["GET"]


def test_salesforce_instance_url_with_a_trailing_slash_gives_clean_paths(crm):
    cached = {"access_token": None}
    first = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, save_token=cached.update)
    assert first.upsert_account("acme", {"Name": "Acme"}).ok
    token = {**cached, "instance_url": crm.url + "/"}
    client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, load_token=lambda: token)
    result = client.upsert_account("acme", {"Name": "Acme 2"})
    assert result.ok
    # the URL sent, as logged (the test server itself forgives a doubled slash)
    assert [a.url for a in result.attempts] == [
        crm.url + SF_DATA + "/sobjects/Account/Tenant_Id__c/acme"
    ]
    assert crm.sf_token_requests == 1


def test_requests_go_to_the_instance_url_of_the_token_answer(crm):
    client = SalesforceClient(UNREACHABLE, sf_auth(crm), rate_limit=None)
    result = client.upsert_account("acme", {"Name": "Acme"})
    assert result.ok
    assert result.attempts[-1].url.startswith(crm.url + SF_DATA)


def test_a_cached_token_brings_its_instance_url(crm):
    saved = {}
    first = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, save_token=saved.update)
    assert first.test_connection().ok
    client = SalesforceClient(UNREACHABLE, sf_auth(crm), rate_limit=None, load_token=lambda: saved)
    assert client.upsert_account("acme", {"Name": "Acme"}).ok
    assert crm.sf_token_requests == 1


@pytest.mark.parametrize("cached", [{}, None, {"instance_url": "http://elsewhere"}])
def test_a_cache_without_a_token_is_ignored(crm, cached):
    client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, load_token=lambda: cached)
    assert client.test_connection().ok
    assert (client.token_requests, crm.sf_token_requests) == (1, 1)


def test_after_a_failed_token_request_a_worker_picks_up_the_token_another_cached(crm):
    cache = {}
    client = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, load_token=lambda: cache)
    crm.inject("/services/oauth2/token", "status", status=503)
    assert not client.test_connection().ok
    other = SalesforceClient(crm.url, sf_auth(crm), rate_limit=None, save_token=cache.update)
    assert other.test_connection().ok
    assert client.test_connection().ok
    assert client.token_requests == 1  # only the one that failed
    assert crm.sf_token_requests == 1  # the other worker's
