"""HTTP clients of the CRM backends; plain Python, no Odoo.

Every operation returns a ``DeliveryResult`` instead of raising for HTTP or
network problems (see ``base``).
"""

from .base import Attempt, CrmClient, DeliveryResult, RateLimiter, shared_rate_limiter
from .hubspot import HubSpotClient
from .salesforce import OAuthConfig, SalesforceClient
from .webhook import WebhookClient

__all__ = [
    "Attempt",
    "CrmClient",
    "DeliveryResult",
    "HubSpotClient",
    "OAuthConfig",
    "RateLimiter",
    "SalesforceClient",
    "WebhookClient",
    "shared_rate_limiter",
]
