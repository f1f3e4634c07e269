"""Signed webhook: account events POSTed as JSON to a URL the customer runs.

Body: ``{"event", "tenant", "occurred_at", "data"}``, compact JSON, UTF-8.

Signature (Stripe style, ``usage_billing_connector.core.signing``), header
``X-Signature: t=<unix seconds>,v1=<hex>`` where hex is HMAC-SHA256 keyed with
the shared secret over ``b"<t>." + body`` — the exact bytes sent, so receivers
must verify the raw body before parsing it.  The timestamp lets receivers
refuse replays older than a tolerance (``signing.verify`` does).

An optional ``idempotency_key`` (the outbox message id) is sent as
``Idempotency-Key`` so receivers can drop the duplicates that retries produce.
Any 2xx is success; the response body is ignored (receivers often answer
plain text or nothing).  The HTTP side is ``HttpClient.post_signed``.
"""

from .base import CrmClient

EVENTS = ("account.updated", "account.alert")
SIGNATURE_HEADER = "X-Signature"
DEFAULT_RATE_LIMIT = 10


class WebhookClient(CrmClient):
    """``push_updates``, ``push_alert``, ``test_connection`` (a signed ping); below
    them ``send`` one signed event."""

    name = "webhook"
    label = "Signed webhook"

    def __init__(
        self, url, secret, *, timeout=None, rate_limit=DEFAULT_RATE_LIMIT, session=None, clock=None
    ):
        super().__init__(url, timeout=timeout, rate_limit=rate_limit, session=session, clock=clock)
        if not secret:
            raise ValueError("webhook secret is required")
        self._secret = secret

    @classmethod
    def from_settings(cls, settings):
        secret = settings.credential("webhook_secret")
        return cls(settings.base_url, secret, **cls.http_options(settings))

    def secrets(self):
        return (self._secret,)

    def _post(self, payload, idempotency_key=None):
        return self.post_signed(
            self.base_url,
            payload,
            self._secret,
            header=SIGNATURE_HEADER,
            idempotency_key=idempotency_key,
        )

    def send(self, event, tenant, occurred_at, data, *, idempotency_key=None):
        """POST one event; ``event`` is ``account.updated`` or ``account.alert``."""
        if event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, got {event!r}")
        payload = {"event": event, "tenant": str(tenant), "occurred_at": occurred_at, "data": data}
        return self._post(payload, idempotency_key)

    def push_updates(self, updates):
        """One signed ``account.updated`` event per update, keyed by ``update.key``."""
        return [
            self.send(
                "account.updated",
                update.tenant,
                update.occurred_at,
                update.properties,
                idempotency_key=update.key,
            )
            for update in updates
        ]

    def push_alert(self, alert):
        """One signed ``account.alert`` event: the alert data plus the account properties."""
        data = {**alert.payload, "account": alert.properties}
        return self.send(
            "account.alert", alert.tenant, alert.occurred_at, data, idempotency_key=alert.key
        )

    def test_connection(self):
        """A signed ``ping`` event the receiver should answer with any 2xx."""
        return self._post({"event": "ping", "tenant": None, "occurred_at": None, "data": {}})
