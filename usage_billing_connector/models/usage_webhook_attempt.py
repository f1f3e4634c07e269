from odoo import fields, models


class UsageWebhookAttempt(models.Model):
    """One HTTP exchange of a webhook delivery, already redacted by the client."""

    _name = "usage.webhook.attempt"
    _inherit = ["usage.outbox.attempt"]
    _description = "Product Webhook Delivery Attempt"

    message_id = fields.Many2one(
        "usage.webhook.delivery", required=True, index=True, ondelete="cascade", readonly=True
    )
    endpoint_id = fields.Many2one(
        "usage.webhook.endpoint", required=True, index=True, readonly=True
    )
