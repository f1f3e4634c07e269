"""Helpers and fixtures of the CRM client tests, against the fake CRM server over real HTTP.

The fixtures (``crm``, ``hubspot``, ``salesforce``, ``webhook``) are registered by
``conftest.py``; test modules import the helpers.  The fake server ships with the
addon's Odoo tests (``crm_sync_connector/tests``); ``conftest.py`` makes it
importable without Odoo.
"""

import pytest

from crm_sync_connector.core.clients import (
    AccountUpdate,
    Alert,
    ClientSettings,
    HubSpotClient,
    OAuthConfig,
    SalesforceClient,
    WebhookClient,
)
from crm_sync_connector.tests.fake_crm_server import FakeCrmServer

# Short read timeout so that "timeout" faults cost 0.3 s, not 30.
TIMEOUT = (2.0, 0.3)
UPSERT = "/crm/v3/objects/companies/batch/upsert"
SF_DATA = "/services/data/v61.0"
SF_TOKEN = "/services/oauth2/token"
OCCURRED_AT = "2025-03-01T12:00:00Z"


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


def account_update(tenant, **properties):
    """An ``AccountUpdate`` of ``tenant`` whose key names the tenant."""
    status = {"tenant": tenant, "plan": properties.get("plan")}
    return AccountUpdate(tenant, properties, status, OCCURRED_AT, key=f"update-{tenant}-1")


def usage_alert(tenant, subject="Usage above 90%", body="API calls: 9,100 of 10,000", **properties):
    """An ``Alert`` of ``tenant`` with ``properties`` as the account to upsert."""
    payload = {"alert": "usage_90", "subject": subject, "body": body}
    return Alert(
        tenant=tenant,
        subject=subject,
        body=body,
        properties=properties,
        status={"tenant": tenant},
        payload=payload,
        occurred_at=OCCURRED_AT,
        key=f"alert-{tenant}-1",
    )


def client_settings(base_url, credentials=None, options=None, **fields):
    """``ClientSettings`` whose credentials come from a dict; no rate limit by default."""
    credentials = dict(credentials or {})
    values = {"timeout": None, "rate_limit": None, **fields}
    return ClientSettings(
        base_url=base_url, credential=credentials.get, options=dict(options or {}), **values
    )


class RefusingSession:
    """A ``requests`` session stand-in that records what is sent and refuses to connect."""

    def __init__(self):
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url))
        raise ConnectionRefusedError("refused")

    def close(self):
        pass
