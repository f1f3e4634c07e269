"""The interface every CRM client implements, and what it is built from.

A CRM client turns our messages into its CRM's wire calls; nothing outside it
knows the CRM's URLs, payload shapes or quirks:

* ``push_updates(updates)``: create or update the accounts, one
  ``DeliveryResult`` per ``AccountUpdate`` in the same order (updates sent in
  one HTTP request share that request's result object);
* ``push_alert(alert)``: update the account and attach the ``Alert`` to it;
* ``test_connection()``: the cheapest authenticated call;
* ``from_settings(settings)``: the client of one backend (``ClientSettings``).

The HTTP machinery (session, timeouts, rate limit, results, redaction, retry
hints) is generic and lives in ``usage_billing_connector.core.delivery``; see
``delivery/http.py`` for the contract every client operation follows.
"""

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from ..usage_core import delivery_http

DEFAULT_CONNECT_TIMEOUT = delivery_http.DEFAULT_CONNECT_TIMEOUT
DEFAULT_READ_TIMEOUT = delivery_http.DEFAULT_READ_TIMEOUT
Attempt = delivery_http.Attempt
DeliveryResult = delivery_http.DeliveryResult
HttpClient = delivery_http.HttpClient
RateLimiter = delivery_http.RateLimiter
json_default = delivery_http.json_default
shared_rate_limiter = delivery_http.shared_rate_limiter
to_json_bytes = delivery_http.to_json_bytes


@dataclass(frozen=True)
class AccountUpdate:
    """The current state of a tenant's account, to create or update in the CRM.

    ``properties``: CRM properties, already mapped; ``status``: our unmapped
    status dict (for CRMs that need a summary); ``occurred_at``: RFC 3339 UTC;
    ``key``: idempotency key chosen by the caller, unique per message revision.
    """

    tenant: str
    properties: dict
    status: dict
    occurred_at: str
    key: str


@dataclass(frozen=True)
class Alert:
    """A threshold alert on a tenant's account.

    ``properties``: the account properties upserted with the alert (mapped);
    ``payload``: the alert data; the other fields as in ``AccountUpdate``.
    """

    tenant: str
    subject: str
    body: str
    properties: dict
    status: dict
    payload: dict
    occurred_at: str
    key: str


@dataclass(frozen=True)
class ClientSettings:
    """What a client is built from (``CrmClient.from_settings``).

    ``timeout``: read timeout in seconds (empty: ``DEFAULT_READ_TIMEOUT``);
    ``rate_limit``: a ``RateLimiter``, requests per second, or ``None`` for no
    client-side limit; ``credential(name)``: a decrypted credential by name
    (``token``, ``client_secret``, ``refresh_token``, ``webhook_secret``);
    ``options``: backend-specific settings by name (``hubspot_id_property``,
    ``sf_token_url``, ``sf_client_id``, ``sf_grant``, ``sf_api_version``,
    ``sf_external_id_field``), empty values meaning the client's default;
    ``load_token``/``save_token``: shared access-token cache (OAuth clients);
    ``record``: opaque to HTTP clients (for a caller-side adapter).
    """

    base_url: str
    timeout: float | None
    rate_limit: object
    credential: Callable[[str], str | None]
    options: Mapping
    load_token: Callable | None = None
    save_token: Callable | None = None
    record: object = None

    def option(self, name, default=None):
        """``options[name]``, or ``default`` when it is missing or empty."""
        return self.options.get(name) or default


class CrmClient(HttpClient, abc.ABC):
    """Base class of the CRM clients (HubSpot, Salesforce, webhook)."""

    name = "crm"
    #: Human name of the backend type.
    label = "CRM"
    #: Account updates worth sending together (one ``push_updates`` call, one job).
    batch_size = 1

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings):
        """The client described by ``settings`` (a ``ClientSettings``)."""

    @abc.abstractmethod
    def push_updates(self, updates):
        """Create or update the accounts; one ``DeliveryResult`` per update, in order."""

    @abc.abstractmethod
    def push_alert(self, alert):
        """Update the account and attach the alert to it; one ``DeliveryResult``."""

    @abc.abstractmethod
    def test_connection(self):
        """The cheapest authenticated call; a ``DeliveryResult``."""

    @staticmethod
    def http_options(settings):
        """``HttpClient`` keyword arguments from ``settings``: timeouts and rate limit."""
        read = settings.timeout or DEFAULT_READ_TIMEOUT
        return {"timeout": (DEFAULT_CONNECT_TIMEOUT, read), "rate_limit": settings.rate_limit}

    @staticmethod
    def chain(first, then):
        """One result for two calls made for one message (e.g. upsert, then note).

        A new ``DeliveryResult``: the outcome of ``then`` with the attempts,
        duration and external ids of both calls.
        """
        return replace(
            then,
            attempts=[*first.attempts, *then.attempts],
            duration_ms=first.duration_ms + then.duration_ms,
            external_ids={**first.external_ids, **then.external_ids},
        )
