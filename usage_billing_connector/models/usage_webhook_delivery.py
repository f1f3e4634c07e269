"""One event for one endpoint: a record of the transactional outbox.

The payload is the complete envelope (``core.webhook_events.envelope``), its
``id`` chosen when the event happened: retries and replays send the same bytes
apart from the signature's timestamp, so the receiver dedupes on ``id``.
Events are never coalesced: ``dedup_key`` is the event id.
"""

from odoo import api, fields, models

from ..core import webhook_events

EVENT_TYPE_SELECTION = [(name, name) for name in webhook_events.EVENT_TYPES]


class UsageWebhookDelivery(models.Model):
    _name = "usage.webhook.delivery"
    _inherit = ["usage.outbox.message"]
    _description = "Product Webhook Delivery"
    _check_company_auto = True

    _outbox_destination_field = "endpoint_id"
    _outbox_coalesce_fields = ("endpoint_id", "dedup_key")
    _outbox_attempt_model = "usage.webhook.attempt"

    endpoint_id = fields.Many2one(
        "usage.webhook.endpoint", required=True, index=True, ondelete="cascade", readonly=True
    )
    event_type = fields.Char(readonly=True, index=True)
    tenant_ref = fields.Char(string="Tenant", readonly=True)
    dedup_key = fields.Char(string="Event ID", help="The event's id, sent as `id`.")
    attempt_ids = fields.One2many("usage.webhook.attempt", "message_id", readonly=True)

    _pending_uniq = models.UniqueIndex(
        "(endpoint_id, dedup_key) WHERE state = 'pending'",
        "An event is pending once per endpoint.",
    )
    _event_endpoint_uniq = models.UniqueIndex(
        "(endpoint_id, dedup_key)", "An event is delivered once per endpoint."
    )

    @api.depends("endpoint_id", "dedup_key")
    def _compute_display_name(self):
        for delivery in self:
            delivery.display_name = f"{delivery.endpoint_id.name}: {delivery.dedup_key}"

    @api.model
    def _enqueue_event(self, endpoints, event):
        """Write one delivery of ``event`` (an envelope) per endpoint that receives it."""
        rows = [
            {
                "endpoint_id": endpoint.id,
                "company_id": endpoint.company_id.id,
                "dedup_key": event["id"],
                "payload": event,
            }
            for endpoint in endpoints
            if endpoint.active and endpoint._receives(event["type"])
        ]
        deliveries = self._outbox_write(rows)
        # Searchable copies of the envelope's fields (the outbox writes the rows by SQL).
        deliveries.write({"event_type": event["type"], "tenant_ref": event["tenant"]})
        return deliveries

    def _attempt_extra_values(self):
        return {"endpoint_id": self.endpoint_id.id}
