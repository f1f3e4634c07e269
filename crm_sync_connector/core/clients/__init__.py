"""HTTP clients of the CRM backends; plain Python, no Odoo.

One client per CRM, all with the interface of ``base.CrmClient``
(``push_updates``, ``push_alert``, ``test_connection``), picked from ``CLIENTS``
by backend type and built from ``ClientSettings`` (``build_client``).  Every
operation returns a ``DeliveryResult`` instead of raising for HTTP or network
problems (``usage_billing_connector.core.delivery.http``).
"""

from .base import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    AccountUpdate,
    Alert,
    Attempt,
    ClientSettings,
    CrmClient,
    DeliveryResult,
    RateLimiter,
    shared_rate_limiter,
)
from .hubspot import DEFAULT_ID_PROPERTY, HubSpotClient
from .salesforce import (
    DEFAULT_API_VERSION,
    DEFAULT_EXTERNAL_ID_FIELD,
    DEFAULT_GRANT,
    OAuthConfig,
    SalesforceClient,
)
from .webhook import WebhookClient

#: backend type -> client class (``from_settings`` builds it).
CLIENTS = {
    "hubspot": HubSpotClient,
    "salesforce": SalesforceClient,
    "webhook": WebhookClient,
}


def build_client(backend_type, settings):
    """The client of ``backend_type`` built from ``settings`` (a ``ClientSettings``).

    Raises ``ValueError`` for a backend type that has no client here.
    """
    client_class = CLIENTS.get(backend_type)
    if client_class is None:
        known = ", ".join(sorted(CLIENTS))
        raise ValueError(f"no CRM client for backend type {backend_type!r} (known: {known})")
    return client_class.from_settings(settings)


__all__ = [
    "CLIENTS",
    "DEFAULT_API_VERSION",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_EXTERNAL_ID_FIELD",
    "DEFAULT_GRANT",
    "DEFAULT_ID_PROPERTY",
    "DEFAULT_READ_TIMEOUT",
    "AccountUpdate",
    "Alert",
    "Attempt",
    "ClientSettings",
    "CrmClient",
    "DeliveryResult",
    "HubSpotClient",
    "OAuthConfig",
    "RateLimiter",
    "SalesforceClient",
    "WebhookClient",
    "build_client",
    "shared_rate_limiter",
]
