"""Outbound HTTP delivery shared by CRM sync and product webhooks; plain Python, no Odoo.

* ``http``: ``HttpClient`` (session, timeouts, rate limit, signed JSON POSTs)
  and the ``DeliveryResult`` every operation returns instead of raising;
* ``backoff``: when to retry, honouring ``Retry-After`` and rate-limit headers;
* ``redact``: credentials removed from whatever is logged.
"""

from .backoff import delay_for_response, is_retryable, retry_delay, server_delay
from .http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TIMEOUT,
    Attempt,
    DeliveryResult,
    Exchange,
    HttpClient,
    RateLimiter,
    json_default,
    shared_rate_limiter,
    to_json_bytes,
)
from .redact import REDACTED, redact

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "REDACTED",
    "Attempt",
    "DeliveryResult",
    "Exchange",
    "HttpClient",
    "RateLimiter",
    "delay_for_response",
    "is_retryable",
    "json_default",
    "redact",
    "retry_delay",
    "server_delay",
    "shared_rate_limiter",
    "to_json_bytes",
]
