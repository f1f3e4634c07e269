from odoo import fields, models


class CrmSyncAttempt(models.Model):
    """One HTTP exchange of a CRM delivery, already redacted by the client."""

    _name = "crm.sync.attempt"
    _inherit = ["usage.outbox.attempt"]
    _description = "CRM Sync Delivery Attempt"

    message_id = fields.Many2one(
        "crm.sync.message", required=True, index=True, ondelete="cascade", readonly=True
    )
    backend_id = fields.Many2one("crm.sync.backend", required=True, index=True, readonly=True)
