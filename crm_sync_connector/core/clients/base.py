"""What every CRM client shares.

The HTTP machinery (session, timeouts, rate limit, results, redaction, retry
hints) is generic and lives in ``usage_billing_connector.core.delivery``; see
``delivery/http.py`` for the contract every client operation follows.
"""

# usage_billing_connector is a sibling addon: inside Odoo it is
# ``odoo.addons.usage_billing_connector`` (reached relatively, so this core never
# names odoo), in the repo-level tests the bare package (tests/conftest.py).
if __name__.startswith("odoo.addons."):
    from ....usage_billing_connector.core.delivery import http as delivery_http
else:
    from usage_billing_connector.core.delivery import http as delivery_http

DEFAULT_READ_TIMEOUT = delivery_http.DEFAULT_READ_TIMEOUT
Attempt = delivery_http.Attempt
DeliveryResult = delivery_http.DeliveryResult
HttpClient = delivery_http.HttpClient
RateLimiter = delivery_http.RateLimiter
json_default = delivery_http.json_default
shared_rate_limiter = delivery_http.shared_rate_limiter
to_json_bytes = delivery_http.to_json_bytes

__all__ = [
    "DEFAULT_READ_TIMEOUT",
    "Attempt",
    "CrmClient",
    "DeliveryResult",
    "HttpClient",
    "RateLimiter",
    "json_default",
    "shared_rate_limiter",
    "to_json_bytes",
]


class CrmClient(HttpClient):
    """Base class of the CRM clients (HubSpot, Salesforce, webhook)."""

    name = "crm"
