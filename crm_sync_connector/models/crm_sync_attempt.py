from odoo import fields, models


class CrmSyncAttempt(models.Model):
    """One HTTP exchange of a delivery, already redacted by the client."""

    _name = "crm.sync.attempt"
    _description = "CRM Sync Delivery Attempt"
    _order = "id desc"

    message_id = fields.Many2one(
        "crm.sync.message", required=True, index=True, ondelete="cascade", readonly=True
    )
    backend_id = fields.Many2one("crm.sync.backend", required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    attempt_number = fields.Integer(readonly=True, help="Attempts of the message before this one.")
    method = fields.Char(readonly=True)
    url = fields.Char(string="URL", readonly=True)
    status_code = fields.Integer(string="HTTP status", readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    error = fields.Text(readonly=True)
    result_error = fields.Text(string="Delivery error", readonly=True)
