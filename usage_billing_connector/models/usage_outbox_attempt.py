from odoo import fields, models


class UsageOutboxAttempt(models.AbstractModel):
    """One exchange of a delivery with the remote system, already redacted."""

    _name = "usage.outbox.attempt"
    _description = "Outbox Delivery Attempt"
    _order = "id desc"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    attempt_number = fields.Integer(readonly=True, help="Attempts of the message before this one.")
    method = fields.Char(readonly=True)
    url = fields.Char(string="URL", readonly=True)
    status_code = fields.Integer(string="HTTP status", readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    error = fields.Text(readonly=True)
    result_error = fields.Text(string="Delivery error", readonly=True)
