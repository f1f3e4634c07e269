"""What every outbound HTTP delivery shares: session, timeouts, rate limit, results, logs.

Used by the CRM clients of ``crm_sync_connector`` and by product webhooks.
Contract of a client operation:

* it never raises for HTTP or network problems; it returns a ``DeliveryResult``
  that says whether to retry (``retryable``) and how long the server asked to
  wait (``retry_after``).  Programming errors (a wrong argument type) still raise.
* it does not retry by itself (clients may add a narrow exception, e.g. the
  single token refresh on 401 of OAuth clients): retries belong to the outbox
  job, which must not hold a worker while it waits.  Writes should be
  idempotent (upserts keyed by the tenant, ``Idempotency-Key``), so replaying a
  delivery whose response was lost never creates a second remote record.
* every HTTP exchange is logged as an ``Attempt`` whose URL and error have been
  redacted (``redact.py``); request headers and bodies are never logged.
* a 2xx response whose body is not the JSON expected is a *retryable* error: the
  write may or may not have happened and we could not learn the remote id, and
  replaying an idempotent write is harmless.

Every request carries ``timeout=(connect, read)``, and waits for the client's
``RateLimiter`` (a token bucket) first, so a burst of jobs does not trip the
receiver's own rate limit.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import requests

from ..signing import sign_header
from .backoff import delay_for_response, is_retryable, server_delay
from .redact import redact

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_TIMEOUT = (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)
MAX_ERROR_CHARS = 500
_KEPT_HEADER_PREFIXES = ("retry-after", "x-hubspot-ratelimit-", "sforce-limit-info")


@dataclass
class Attempt:
    """One HTTP exchange, as stored in the delivery log (already redacted)."""

    method: str
    url: str
    status: int | None
    duration_ms: int
    error: str | None = None


@dataclass
class DeliveryResult:
    """Outcome of one client operation.

    ``external_ids`` maps tenant -> remote record id for account upserts;
    ``remote_id`` is the id of a single created object (note, task).
    ``headers`` keeps only the rate-limit headers of the last response, which is
    what ``next_delay`` needs to compute the retry schedule.
    """

    ok: bool
    status: int | None = None
    retryable: bool = False
    retry_after: float | None = None
    error: str | None = None
    external_ids: dict = field(default_factory=dict)
    duration_ms: int = 0
    remote_id: str | None = None
    attempts: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)

    def next_delay(self, attempt, **schedule):
        """Seconds before retry ``attempt`` (1-based), honouring the server's hints."""
        return delay_for_response(attempt, self.status, self.headers, **schedule)


class RateLimiter:
    """Client-side token bucket: ``rate_per_second`` sustained, ``burst`` at once.

    Thread-safe.  A caller that finds the bucket empty reserves the next token
    and sleeps outside the lock, so concurrent callers queue fairly.
    """

    def __init__(self, rate_per_second, burst=None, *, clock=time.monotonic, sleep=time.sleep):
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second}")
        self.rate = float(rate_per_second)
        self.capacity = float(burst) if burst is not None else max(1.0, self.rate)
        if self.capacity < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _reserve(self):
        """Take a token (the balance may go negative) and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self):
        """Block until a request may be sent; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


_shared_limiters = {}
_shared_lock = threading.Lock()


def shared_rate_limiter(key, rate_per_second, burst=None):
    """One limiter per ``key`` (e.g. a backend record) for the whole process.

    Jobs build a new client each time; sharing the bucket makes the limit hold
    across them.  Changing the rate for a key replaces its limiter.
    """
    with _shared_lock:
        limiter = _shared_limiters.get(key)
        if limiter is None or limiter.rate != float(rate_per_second):
            limiter = _shared_limiters[key] = RateLimiter(rate_per_second, burst)
        return limiter


def _rate_limiter(rate_limit):
    if rate_limit is None or isinstance(rate_limit, RateLimiter):
        return rate_limit
    return RateLimiter(rate_limit)


def _timeout(timeout):
    """``(connect, read)``; a single number is used for both."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, (int, float)):
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


def json_default(value):
    """JSON for the values account data is made of.

    Decimals become strings to stay exact (amounts); dates become ISO 8601.
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json_bytes(payload):
    """The exact bytes sent for a JSON body (compact, UTF-8)."""
    return json.dumps(
        payload, default=json_default, separators=(",", ":"), ensure_ascii=False
    ).encode()


_NO_BODY = object()
_MALFORMED = object()


@dataclass
class Exchange:
    """An HTTP exchange as seen by a client: response or exception, parsed body, log entry."""

    attempt: Attempt
    response: requests.Response | None = None
    exception: Exception | None = None
    payload: object = _NO_BODY

    @property
    def status(self):
        return self.response.status_code if self.response is not None else None

    @property
    def succeeded(self):
        """2xx with a body that is JSON or empty."""
        return self.status is not None and 200 <= self.status < 300 and not self.malformed

    @property
    def malformed(self):
        """A 2xx whose body is not JSON (error bodies may be HTML from a proxy: not malformed)."""
        return self.payload is _MALFORMED and 200 <= (self.status or 0) < 300

    @property
    def json(self):
        """Parsed body, ``None`` when there is none or it is not JSON."""
        return None if self.payload is _NO_BODY or self.payload is _MALFORMED else self.payload


class HttpClient:
    """Base class of the delivery clients (CRMs, product webhooks).

    ``clock`` returns the current Unix time (signatures); tests pin it.
    """

    name = "http"

    def __init__(self, base_url, *, timeout=None, rate_limit=None, session=None, clock=None):
        self.base_url = (base_url or "").rstrip("/")
        self.timeout = _timeout(timeout)
        self.rate_limiter = _rate_limiter(rate_limit)
        self.session = session if session is not None else requests.Session()
        self.clock = clock or time.time

    def __repr__(self):
        return f"<{type(self).__name__} {self.redact(self.base_url)}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.session.close()

    # -- secrets and logs -------------------------------------------------

    def secrets(self):
        """Every credential this client knows, for redaction; subclasses extend."""
        return ()

    def redact(self, text):
        return redact(text, self.secrets())

    def _error_text(self, text):
        text = self.redact(text)
        if text and len(text) > MAX_ERROR_CHARS:
            text = text[: MAX_ERROR_CHARS - 1] + "…"
        return text

    # -- HTTP -----------------------------------------------------------------

    def url(self, path):
        return f"{self.base_url}{path}"

    def request(self, method, url, *, headers=None, json_body=_NO_BODY, data=None, params=None):
        """One HTTP exchange; never raises for network errors.

        ``json_body`` is serialized here (``to_json_bytes``) so that Decimals and
        dates work and the bytes sent are known (webhook signatures).
        """
        headers = dict(headers or {})
        if json_body is not _NO_BODY:
            data = to_json_bytes(json_body)
            headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Accept", "application/json")
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, headers=headers, data=data, params=params, timeout=self.timeout
            )
        except (requests.RequestException, OSError) as exc:
            return Exchange(self._attempt(method, url, started, None, exc), exception=exc)
        exchange = Exchange(attempt=None, response=response, payload=_parse_body(response))
        exchange.attempt = self._attempt(
            method, response.url or url, started, response.status_code, _logged_error(exchange)
        )
        return exchange

    def post_signed(self, url, payload, secret, *, header, idempotency_key=None):
        """POST ``payload`` as JSON signed with ``secret`` (``core.signing``, Stripe scheme).

        The signature (``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``)
        covers the exact bytes sent and goes in the ``header`` header;
        ``idempotency_key``, when given, is sent as ``Idempotency-Key`` so the
        receiver can drop the duplicates that retries produce.  Any 2xx is
        success: the response body is ignored (receivers often answer plain text
        or nothing).
        """
        body = to_json_bytes(payload)
        headers = {
            "Content-Type": "application/json",
            header: sign_header(secret, self.clock(), body),
        }
        if idempotency_key:
            headers["Idempotency-Key"] = str(idempotency_key)
        exchange = self.request("POST", url, headers=headers, data=body)
        if exchange.status is None or not 200 <= exchange.status < 300:
            return self.failure(exchange, [exchange.attempt])
        return self.success(exchange, [exchange.attempt])

    def _attempt(self, method, url, started, status, error):
        if isinstance(error, BaseException):
            error = f"{type(error).__name__}: {error}"
        duration_ms = round((time.monotonic() - started) * 1000)
        return Attempt(method, self.redact(url), status, duration_ms, self._error_text(error))

    # -- results --------------------------------------------------------------

    def success(self, exchange, attempts, *, external_ids=None, remote_id=None):
        return DeliveryResult(
            ok=True,
            status=exchange.status,
            external_ids=dict(external_ids or {}),
            remote_id=remote_id,
            duration_ms=sum(a.duration_ms for a in attempts),
            attempts=list(attempts),
            headers=_kept_headers(exchange.response),
        )

    def failure(self, exchange, attempts, *, error=None, retryable=None, external_ids=None):
        """A failed result from an exchange; ``error``/``retryable`` override the defaults."""
        status = exchange.status
        headers = _kept_headers(exchange.response)
        if exchange.exception is not None:
            default_retryable = is_retryable(exchange.exception)
            default_error = f"{type(exchange.exception).__name__}: {exchange.exception}"
        elif 200 <= status < 300:
            default_retryable = True
            default_error = f"HTTP {status}: malformed or unexpected response body"
        else:
            default_retryable = self.is_retryable_response(exchange)
            default_error = f"HTTP {status}: {self.error_message(exchange)}"
        retryable = default_retryable if retryable is None else retryable
        return DeliveryResult(
            ok=False,
            status=status,
            retryable=retryable,
            retry_after=server_delay(status, headers) if retryable else None,
            error=self._error_text(error or default_error),
            external_ids=dict(external_ids or {}),
            duration_ms=sum(a.duration_ms for a in attempts),
            attempts=list(attempts),
            headers=headers,
        )

    def is_retryable_response(self, exchange):
        """Whether an error response may succeed later; subclasses refine by error code."""
        return is_retryable(exchange.status)

    def error_message(self, exchange):
        """Human-readable error of a non-2xx response; subclasses parse their format."""
        body = exchange.json
        if isinstance(body, dict):
            for key in ("message", "error_description", "error"):
                if body.get(key):
                    return str(body[key])
        response = exchange.response
        if response is None:
            return ""
        return response.text.strip() or response.reason or ""


def _logged_error(exchange):
    """The short error of an attempt log entry (the result carries the details)."""
    if exchange.malformed:
        return "malformed JSON in response body"
    if exchange.status >= 400:
        return f"HTTP {exchange.status}"
    return None


def _parse_body(response):
    if response.status_code == 204 or not response.content:
        return _NO_BODY
    try:
        return response.json()
    except ValueError:
        return _MALFORMED


def _kept_headers(response):
    if response is None:
        return {}
    return {
        key: value
        for key, value in response.headers.items()
        if key.lower().startswith(_KEPT_HEADER_PREFIXES)
    }
