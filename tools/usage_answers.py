"""How the reference client reads the API's answers: retry, give up, or report.

429 (honouring ``Retry-After``), 5xx, dropped connections and timeouts are worth
another attempt, and so is a 404 that is not the API's JSON error (Odoo serving
the request without its database, e.g. while PostgreSQL restarts); any other
non-200 is a permanent answer.  Used by ``tools/usage_client.py``.
"""

import email.utils
import time

import requests


class AttemptFailed(Exception):
    def __init__(self, message, retry_after=None, status=None, code=None):
        super().__init__(message)
        self.message, self.retry_after, self.status, self.code = message, retry_after, status, code


class Transient(AttemptFailed):
    """An attempt failed in a way that a later identical attempt may not."""


class Permanent(AttemptFailed):
    """An answer that the same request would get again: do not retry it."""


class ApiError(Exception):
    """A read the API answered with an error (``status``, ``code``), or could not answer."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


#: Worth another attempt: no answer, or one cut in the middle.
TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def raise_for_status(response, permanent):
    """Raise ``Transient`` for what is worth retrying, ``permanent`` for other non-200s."""
    status = response.status_code
    code, message = error_of(response)
    if is_transient(status, code):
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise Transient(f"HTTP {status}: {message}", retry_after, status, code)
    if status != 200:
        raise permanent(f"HTTP {status}: {message}", status=status, code=code)


def is_transient(status, code):
    """429, 5xx, and a 404 that is not the API's own JSON error: Odoo answers so
    while it runs without its database (PostgreSQL restarting)."""
    return status == 429 or status >= 500 or (status == 404 and code is None)


def error_of(response):
    try:
        error = response.json()["error"]
        return error.get("code"), error.get("message") or response.reason
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, response.reason or ""


def retry_after_seconds(value):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
