"""The signed-webhook receiver of the fake CRM.

``POST /webhook...`` verifies ``X-Signature`` (``t=..,v1=<hex
HMAC-SHA256(secret, "<t>." + raw body)>``) with the product's verifier
(``core.signing.verify``), records valid events, answers 401 to bad signatures.

State: ``webhook_events``, ``webhook_rejected``.
A mixin of ``fake_crm_server.FakeCrmServer``, which owns the lock.
"""

import json
import time

from .fake_crm_wire import Reply

# The signing module of the sibling addon: ``odoo.addons.usage_billing_connector``
# when Odoo loads this file as ``odoo.addons.crm_sync_connector.tests.*``, the
# bare package in the repo-level tests and tools (registered like tests/conftest.py).
if __name__.startswith("odoo.addons."):
    from ...usage_billing_connector.core.signing import SignatureError, verify
else:
    from usage_billing_connector.core.signing import SignatureError, verify

WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
PATH_PREFIX = "/webhook"


class FakeWebhookReceiver:
    """A receiver of the connector's signed webhooks."""

    WEBHOOK_SECRET = WEBHOOK_SECRET

    @property
    def webhook_url(self):
        return f"{self.url}{PATH_PREFIX}"

    def _reset_webhook(self):
        self.webhook_events = []
        self.webhook_rejected = []

    def _webhook(self, record):
        if record.method != "POST":
            return Reply(405, {"error": "POST only"})
        if not (record.header("Content-Type") or "").startswith("application/json"):
            return Reply(415, {"error": "application/json expected"})
        event = {
            "path": record.path,
            "body": record.body,
            "signature": record.header("X-Signature"),
            "idempotency_key": record.header("Idempotency-Key"),
        }
        if not self.signature_is_valid(record.body, event["signature"]):
            with self._lock:
                self.webhook_rejected.append(event)
            return Reply(401, {"error": "invalid signature"})
        event["payload"] = json.loads(record.body)
        with self._lock:
            self.webhook_events.append(event)
        return Reply(200, {"received": True})

    def signature_is_valid(self, body, header):
        """The receiver's check, done with the product's verifier (``core.signing``)."""
        try:
            verify(header, body, [self.webhook_secret], time.time(), self.signature_tolerance)
        except SignatureError:
            return False
        return True
