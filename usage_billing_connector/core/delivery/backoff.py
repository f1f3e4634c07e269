"""When to retry an HTTP delivery, and whether to retry it at all.

Shared by every outbound delivery (CRM sync, product webhooks).  The outbox job
retries a failed delivery later instead of sleeping in a worker, so everything
here computes *delays*; nothing sleeps.

Schedule (``retry_delay``): ``base * factor ** (attempt - 1)`` seconds, capped at
``cap``, then spread by ``±jitter`` (a fraction) so that many messages that failed
together do not all come back together.  The result never exceeds ``cap``.
With the defaults: ~30 s, 60 s, 2 min, 4 min, ... up to 1 h.

Server hints win over the schedule (``delay_for_response``):

* ``Retry-After`` (delta-seconds or HTTP date) on 429 and 503 is used as is,
  bounded to ``MAX_SERVER_DELAY``: retrying earlier would only be refused again,
  retrying later than the server asks wastes time.
* HubSpot ``X-HubSpot-RateLimit-Remaining: 0`` means the rolling window is
  exhausted: wait ``X-HubSpot-RateLimit-Interval-Milliseconds``.  An exhausted
  per-second window (``X-HubSpot-RateLimit-Secondly-Remaining: 0``) waits 1 s and
  an exhausted daily quota (``X-HubSpot-RateLimit-Daily-Remaining: 0``) waits
  ``cap``.
* Salesforce ``Sforce-Limit-Info: api-usage=N/M`` is a rolling 24 h org quota
  shared with every other integration: at 95 % or more the normal delay is
  multiplied by ``SALESFORCE_NEAR_LIMIT_FACTOR`` (still capped), at 100 % it is
  ``cap``, so this connector does not eat the last requests of the org.

Retryable or permanent (``is_retryable``):

* retryable: 408 Request Timeout, 409 Conflict (a concurrent write to the same
  record; the upsert is idempotent, so the retry becomes an update), 425 Too
  Early, 429 Too Many Requests, every 5xx; timeouts and connection errors
  (including TLS and broken chunked responses);
* permanent: every other status, 401 included.  Clients refresh an OAuth token on
  401 themselves and retry once; a 401 that survives that is a credential problem
  that no amount of waiting fixes, so it goes to the dead-letter queue at once.
  Other exceptions (invalid URL, missing schema, ...) are configuration errors.
"""

import math
import random
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import requests

DEFAULT_BASE = 30.0
DEFAULT_FACTOR = 2.0
DEFAULT_CAP = 3600.0
DEFAULT_JITTER = 0.2

#: Longest server-requested delay honoured (a day): protects against nonsense values.
MAX_SERVER_DELAY = 86400.0
#: Salesforce API usage ratio from which deliveries slow down.
SALESFORCE_NEAR_LIMIT = 0.95
SALESFORCE_NEAR_LIMIT_FACTOR = 4.0

RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})

_RETRYABLE_EXCEPTIONS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    TimeoutError,
    ConnectionError,
)
_SFORCE_USAGE_RE = re.compile(r"api-usage\s*=\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)


def retry_delay(
    attempt,
    *,
    base=DEFAULT_BASE,
    factor=DEFAULT_FACTOR,
    cap=DEFAULT_CAP,
    jitter=DEFAULT_JITTER,
    rng=random.random,
):
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    ``rng`` returns a float in [0, 1); 0.5 means "no jitter", which tests use to
    pin the exact schedule.
    """
    if attempt < 1:
        raise ValueError(f"attempt starts at 1, got {attempt}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    try:
        delay = min(float(cap), base * factor ** (attempt - 1))
    except OverflowError:
        delay = float(cap)
    spread = delay * jitter * (2 * rng() - 1)
    return max(0.0, min(float(cap), delay + spread))


def parse_retry_after(value, *, now=None):
    """Seconds asked by a ``Retry-After`` header value, ``None`` if unusable.

    Accepts delta-seconds (``"120"``) and HTTP dates
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``); a date in the past means "now" (0).
    """
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until_http_date(value, now)
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_SERVER_DELAY)


def _seconds_until_http_date(value, now):
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        # RFC 9110 dates are always GMT; a naive result means it was not one.
        return None
    now = time.time() if now is None else now
    return min(max(0.0, when.timestamp() - now), MAX_SERVER_DELAY)


def _header(headers, name):
    """Case-insensitive lookup that works for plain dicts as well as requests' headers."""
    if not headers:
        return None
    if not isinstance(headers, Mapping):
        headers = dict(headers)
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _int_header(headers, name):
    value = _header(headers, name)
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def hubspot_delay(headers, *, cap=DEFAULT_CAP):
    """Seconds until HubSpot's exhausted rate-limit window reopens, ``None`` if not exhausted."""
    if _int_header(headers, "X-HubSpot-RateLimit-Daily-Remaining") == 0:
        return float(cap)
    if _int_header(headers, "X-HubSpot-RateLimit-Remaining") == 0:
        interval_ms = _int_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if interval_ms and interval_ms > 0:
            return min(interval_ms / 1000.0, MAX_SERVER_DELAY)
        return 10.0  # HubSpot's documented default window
    if _int_header(headers, "X-HubSpot-RateLimit-Secondly-Remaining") == 0:
        return 1.0
    return None


def salesforce_usage(headers):
    """Fraction of the Salesforce org's API quota used, from ``Sforce-Limit-Info``."""
    match = _SFORCE_USAGE_RE.search(str(_header(headers, "Sforce-Limit-Info") or ""))
    if not match:
        return None
    used, limit = int(match.group(1)), int(match.group(2))
    return used / limit if limit > 0 else None


def server_delay(status, headers, *, now=None, cap=DEFAULT_CAP):
    """The delay the server explicitly asks for, ``None`` when it asks nothing.

    This is what clients report as ``DeliveryResult.retry_after``.
    """
    if status in RETRY_AFTER_STATUSES:
        seconds = parse_retry_after(_header(headers, "Retry-After"), now=now)
        if seconds is not None:
            return seconds
    return hubspot_delay(headers, cap=cap)


def delay_for_response(attempt, status, headers, *, now=None, **schedule):
    """Seconds to wait before retry ``attempt`` after a response (``status`` may be None).

    ``schedule`` takes ``retry_delay``'s keyword arguments (base, factor, cap,
    jitter, rng).
    """
    cap = schedule.get("cap", DEFAULT_CAP)
    hinted = server_delay(status, headers, now=now, cap=cap)
    if hinted is not None:
        return hinted
    delay = retry_delay(attempt, **schedule)
    usage = salesforce_usage(headers)
    if usage is not None and usage >= 1:
        return float(cap)
    if usage is not None and usage >= SALESFORCE_NEAR_LIMIT:
        return min(float(cap), delay * SALESFORCE_NEAR_LIMIT_FACTOR)
    return delay


def is_retryable(status_or_exception):
    """True when the same request may succeed later (see module docstring)."""
    if isinstance(status_or_exception, BaseException):
        return isinstance(status_or_exception, _RETRYABLE_EXCEPTIONS)
    if isinstance(status_or_exception, bool) or not isinstance(status_or_exception, int):
        raise TypeError(f"expected an HTTP status or an exception, got {status_or_exception!r}")
    return status_or_exception in RETRYABLE_STATUSES or 500 <= status_or_exception <= 599
