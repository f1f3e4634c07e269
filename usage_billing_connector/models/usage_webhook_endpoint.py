"""Endpoints of the product platform that receive signed webhooks (``core.webhook_events``)."""

import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import webhook_events
from ..core.delivery.http import DeliveryResult, HttpClient, shared_rate_limiter
from ..core.secrets_box import mask
from ..utils.secrets_config import secrets_box

_logger = logging.getLogger(__name__)

#: Section of the Odoo configuration file holding the encryption keys.
SECRETS_SECTION = "usage_billing"


class UsageWebhookEndpoint(models.Model):
    _name = "usage.webhook.endpoint"
    _inherit = ["usage.outbox.destination"]
    _description = "Product Webhook Endpoint"
    _order = "name, id"
    _check_company_auto = True

    _outbox_message_model = "usage.webhook.delivery"
    _outbox_root_channel = "usage_billing_connector.queue_job_channel_usage_webhook"

    name = fields.Char(required=True)
    url = fields.Char(string="URL", required=True)
    secret = fields.Char(
        string="Signing secret",
        compute="_compute_secret",
        inverse="_inverse_secret",
        store=False,
        copy=False,
        help="Shared secret of X-Usage-Signature. Write-only: it is encrypted on save and "
        "never shown again.",
    )
    secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    secret_hint = fields.Char(string="Stored secret", readonly=True, copy=False)
    event_types = fields.Char(
        help="Comma-separated event types this endpoint receives; empty: all of them. Types: "
        + ", ".join(webhook_events.EVENT_TYPES)
        + ".",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)
    timeout = fields.Float(default=10.0, help="Read timeout of a delivery, in seconds.")
    delivery_ids = fields.One2many("usage.webhook.delivery", "endpoint_id", readonly=True)

    _name_company_uniq = models.Constraint(
        "UNIQUE(company_id, name)", "An endpoint name is unique per company."
    )

    @api.constrains("event_types")
    def _check_event_types(self):
        for endpoint in self:
            try:
                webhook_events.parse_event_types(endpoint.event_types)
            except webhook_events.EventTypeError as exc:
                raise ValidationError(str(exc)) from exc

    @api.constrains("url")
    def _check_url(self):
        for endpoint in self:
            if not (endpoint.url or "").startswith(("https://", "http://")):
                raise ValidationError(self.env._("The URL of %s must be http(s).", endpoint.name))

    # ------------------------------------------------------------------ secret

    def _compute_secret(self):
        for endpoint in self:
            endpoint.secret = False

    def _inverse_secret(self):
        box = secrets_box(SECRETS_SECTION)
        for endpoint in self:
            value = (endpoint.secret or "").strip()
            if not value:
                continue  # an empty input keeps the stored secret
            # sudo: the ciphertext column is restricted to system administrators
            # (nobody else reads even the ciphertext); managers may replace it.
            endpoint.sudo().write(
                {"secret_encrypted": box.encrypt(value), "secret_hint": mask(value)}
            )
        self.invalidate_recordset(["secret"])

    def _secret(self):
        """The decrypted secret, ``None`` when unset; only right before sending."""
        self.ensure_one()
        # sudo: see _inverse_secret; the plaintext stays in this process's memory.
        token = self.sudo().secret_encrypted
        return secrets_box(SECRETS_SECTION).decrypt(token) if token else None

    def action_rotate_secret(self):
        """Re-encrypt the stored secrets with the newest configured key."""
        box = secrets_box(SECRETS_SECTION)
        # sudo: see _inverse_secret.
        for endpoint in self.sudo().filtered("secret_encrypted"):
            endpoint.secret_encrypted = box.rotate(endpoint.secret_encrypted)

    # ------------------------------------------------------------------ routing

    def _receives(self, event_type):
        self.ensure_one()
        return webhook_events.subscribes_to(self.event_types, event_type)

    # ------------------------------------------------------------------ push

    def _outbox_push(self, messages):
        """POST each event, signed; ``[(message, DeliveryResult)]``."""
        self.ensure_one()
        secret = self._secret()
        if not secret:
            error = f"Endpoint {self.name} has no signing secret."
            return [(messages, DeliveryResult(ok=False, retryable=False, error=error))]
        limiter = shared_rate_limiter(("usage_webhook", self.env.cr.dbname, self.id), 20)
        client = HttpClient(self.url, timeout=(5.0, self.timeout), rate_limit=limiter)
        outcome = []
        with client:
            for message in messages:
                result = client.post_signed(
                    self.url,
                    message.payload,
                    secret,
                    header=webhook_events.SIGNATURE_HEADER,
                    idempotency_key=message.payload["id"],
                )
                outcome.append((message, result))
        return outcome
