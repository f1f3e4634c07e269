"""Signed webhook: account events POSTed as JSON to a URL the customer runs.

Body: ``{"event", "tenant", "occurred_at", "data"}``, compact JSON, UTF-8.

Signature (Stripe style), header ``X-Signature: t=<unix seconds>,v1=<hex>`` where
hex is HMAC-SHA256 keyed with the shared secret over ``b"<t>." + body`` — the
exact bytes sent, so receivers must verify the raw body before parsing it.  The
timestamp lets receivers refuse replays older than a tolerance
(``verify_signature`` does, 5 minutes by default).

An optional ``idempotency_key`` (the outbox message id) is sent as
``Idempotency-Key`` so receivers can drop the duplicates that retries produce.
Any 2xx is success; the response body is ignored (receivers often answer
plain text or nothing).
"""

import hashlib
import hmac
import time

from .base import CrmClient, to_json_bytes

EVENTS = ("account.updated", "account.alert")
SIGNATURE_HEADER = "X-Signature"
DEFAULT_TOLERANCE = 300
DEFAULT_RATE_LIMIT = 10


def compute_signature(secret, timestamp, body):
    """Hex HMAC-SHA256 of ``b"<timestamp>." + body``."""
    message = f"{int(timestamp)}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret, timestamp, body):
    """The ``X-Signature`` value for ``body`` sent at ``timestamp``."""
    return f"t={int(timestamp)},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(secret, body, header, *, tolerance=DEFAULT_TOLERANCE, now=None):
    """Receiver side: True when ``header`` signs ``body`` with ``secret`` recently enough."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    now = time.time() if now is None else now
    if tolerance is not None and abs(now - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


class WebhookClient(CrmClient):
    """``send`` signed events, ``test_connection`` with a signed ping."""

    name = "webhook"

    def __init__(
        self, url, secret, *, timeout=None, rate_limit=DEFAULT_RATE_LIMIT, session=None, clock=None
    ):
        super().__init__(url, timeout=timeout, rate_limit=rate_limit, session=session)
        if not secret:
            raise ValueError("webhook secret is required")
        self._secret = secret
        self._clock = clock or time.time

    def secrets(self):
        return (self._secret,)

    def _post(self, payload, idempotency_key=None):
        body = to_json_bytes(payload)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(self._secret, self._clock(), body),
        }
        if idempotency_key:
            headers["Idempotency-Key"] = str(idempotency_key)
        exchange = self.request("POST", self.base_url, headers=headers, data=body)
        if exchange.status is None or not 200 <= exchange.status < 300:
            return self.failure(exchange, [exchange.attempt])
        return self.success(exchange, [exchange.attempt])

    def send(self, event, tenant, occurred_at, data, *, idempotency_key=None):
        """POST one event; ``event`` is ``account.updated`` or ``account.alert``."""
        if event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, got {event!r}")
        payload = {"event": event, "tenant": str(tenant), "occurred_at": occurred_at, "data": data}
        return self._post(payload, idempotency_key)

    def test_connection(self):
        """A signed ``ping`` event the receiver should answer with any 2xx."""
        return self._post({"event": "ping", "tenant": None, "occurred_at": None, "data": {}})
