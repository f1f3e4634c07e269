"""Picking and building CRM clients: ``CLIENTS``, ``build_client``, ``from_settings``."""

import pytest
from crm_helpers import SF_DATA, account_update, client_settings

from crm_sync_connector.core import clients
from crm_sync_connector.core.clients import (
    CLIENTS,
    DEFAULT_API_VERSION,
    DEFAULT_EXTERNAL_ID_FIELD,
    DEFAULT_GRANT,
    DEFAULT_ID_PROPERTY,
    DEFAULT_READ_TIMEOUT,
    CrmClient,
    DeliveryResult,
    HubSpotClient,
    RateLimiter,
    SalesforceClient,
    WebhookClient,
    build_client,
)
from crm_sync_connector.core.clients.base import Attempt
from crm_sync_connector.core.clients.hubspot import DEFAULT_BASE_URL


def sf_settings(crm, options=None, **fields):
    options = {"sf_token_url": crm.token_url, "sf_client_id": crm.SF_CLIENT_ID, **(options or {})}
    credentials = {"client_secret": crm.SF_CLIENT_SECRET, "refresh_token": crm.SF_REFRESH_TOKEN}
    return client_settings(crm.url, credentials, options, **fields)


def test_one_client_class_per_backend_type():
    assert CLIENTS == {
        "hubspot": HubSpotClient,
        "salesforce": SalesforceClient,
        "webhook": WebhookClient,
    }
    assert {key: cls.label for key, cls in CLIENTS.items()} == {
        "hubspot": "HubSpot",
        "salesforce": "Salesforce",
        "webhook": "Signed webhook",
    }
    for cls in CLIENTS.values():
        assert issubclass(cls, CrmClient) and not cls.__abstractmethods__


def test_a_crm_client_must_implement_the_whole_interface():
    class Partial(CrmClient):
        @classmethod
        def from_settings(cls, settings):
            return cls("https://crm.example")

        def push_updates(self, updates):
            return []

    with pytest.raises(TypeError, match="push_alert"):
        Partial.from_settings(None)


@pytest.mark.parametrize("backend_type", ["odoo", "pipedrive", "", None])
def test_build_client_refuses_an_unknown_backend_type(backend_type):
    with pytest.raises(ValueError, match=r"no CRM client for backend type .*hubspot, salesforce"):
        build_client(backend_type, client_settings("https://crm.example"))


def test_defaults_are_public_constants():
    assert DEFAULT_READ_TIMEOUT == 30.0
    assert DEFAULT_ID_PROPERTY == "tenant_id"
    assert (DEFAULT_API_VERSION, DEFAULT_EXTERNAL_ID_FIELD) == ("v61.0", "Tenant_Id__c")
    assert DEFAULT_GRANT == "client_credentials"


@pytest.mark.parametrize("options", [{}, {"hubspot_id_property": ""}])
def test_hubspot_from_empty_settings_takes_the_defaults(options):
    client = build_client("hubspot", client_settings("", {"token": "pat-na1-xyz"}, options))
    assert isinstance(client, HubSpotClient)
    assert client.id_property == DEFAULT_ID_PROPERTY
    assert client.base_url == DEFAULT_BASE_URL
    assert client.timeout == (5.0, DEFAULT_READ_TIMEOUT)
    assert client.rate_limiter is None


@pytest.mark.parametrize("empty", [None, ""])
def test_salesforce_from_empty_settings_takes_the_defaults(crm, empty):
    options = dict.fromkeys(("sf_grant", "sf_api_version", "sf_external_id_field"), empty)
    client = build_client("salesforce", sf_settings(crm, options))
    assert isinstance(client, SalesforceClient)
    assert client.api_version == DEFAULT_API_VERSION
    assert client.external_id_field == DEFAULT_EXTERNAL_ID_FIELD
    assert client.auth.grant == DEFAULT_GRANT
    assert client.auth.client_secret == crm.SF_CLIENT_SECRET


def test_settings_reach_the_client(crm):
    limiter = RateLimiter(3)
    hubspot_settings = client_settings(
        crm.url, {"token": "t0k3n"}, {"hubspot_id_property": "usage_ref"}, timeout=7
    )
    hubspot = build_client("hubspot", hubspot_settings)
    assert (hubspot.base_url, hubspot.id_property) == (crm.url, "usage_ref")
    assert hubspot.timeout == (5.0, 7.0)
    options = {
        "sf_api_version": "60.0",
        "sf_external_id_field": "Ext__c",
        "sf_grant": "refresh_token",
    }
    salesforce = build_client("salesforce", sf_settings(crm, options, rate_limit=limiter))
    assert (salesforce.api_version, salesforce.external_id_field) == ("v60.0", "Ext__c")
    assert salesforce.auth.refresh_token == crm.SF_REFRESH_TOKEN
    assert salesforce.rate_limiter is limiter
    webhook = build_client(
        "webhook", client_settings(crm.webhook_url, {"webhook_secret": "s3cr3t!"}, rate_limit=4)
    )
    assert webhook.secrets() == ("s3cr3t!",)
    assert webhook.rate_limiter.rate == 4.0


def test_clients_built_from_settings_deliver(crm):
    saved = []
    salesforce = build_client("salesforce", sf_settings(crm, save_token=saved.append))
    hubspot = build_client("hubspot", client_settings(crm.url, {"token": crm.HUBSPOT_TOKEN}))
    webhook = build_client(
        "webhook", client_settings(crm.webhook_url, {"webhook_secret": crm.WEBHOOK_SECRET})
    )

    for client in (salesforce, hubspot, webhook):
        (result,) = client.push_updates([account_update("acme", Name="Acme")])
        assert result.ok, (client, result.error)
        assert client.test_connection().ok

    assert crm.sf_accounts["acme"]["Name"] == "Acme"
    assert crm.requests_to(SF_DATA)[0].path.startswith(f"/services/data/{DEFAULT_API_VERSION}/")
    assert saved and saved[0]["instance_url"] == crm.url
    assert crm.hubspot_companies["acme"]["properties"]["tenant_id"] == "acme"
    assert crm.webhook_events[0]["idempotency_key"] == "update-acme-1"


def test_missing_credential_is_a_configuration_error():
    with pytest.raises(ValueError, match="token"):
        build_client("hubspot", client_settings("https://api.hubapi.com"))
    with pytest.raises(ValueError, match="secret"):
        build_client("webhook", client_settings("https://hooks.example"))


def test_chain_is_a_new_result_with_both_calls():
    first = DeliveryResult(
        ok=True,
        status=201,
        external_ids={"acme": "001"},
        duration_ms=5,
        attempts=[Attempt("PATCH", "u", 201, 5)],
    )
    then = DeliveryResult(
        ok=True, status=201, remote_id="00T", duration_ms=7, attempts=[Attempt("POST", "v", 201, 7)]
    )

    chained = CrmClient.chain(first, then)

    assert chained is not first and chained is not then
    assert (chained.ok, chained.status, chained.remote_id) == (True, 201, "00T")
    assert chained.external_ids == {"acme": "001"}
    assert [a.method for a in chained.attempts] == ["PATCH", "POST"]
    assert chained.duration_ms == 12
    assert [len(first.attempts), len(then.attempts), then.external_ids] == [1, 1, {}]


def test_package_exports_the_interface():
    for name in ("AccountUpdate", "Alert", "ClientSettings", "build_client", "CLIENTS"):
        assert name in clients.__all__ and hasattr(clients, name)
