from odoo import api, fields, models


class UsageStatementCorrectionWizard(models.TransientModel):
    """Re-rate an invoiced period after a dispute or once its held late usage is released."""

    _name = "usage.statement.correction.wizard"
    _description = "Correct an Invoiced Usage Billing Period"

    statement_id = fields.Many2one("usage.statement", required=True, readonly=True)
    company_id = fields.Many2one(related="statement_id.company_id")
    currency_id = fields.Many2one(related="statement_id.currency_id")
    plan_id = fields.Many2one(
        "usage.plan",
        string="Rate with",
        required=True,
        domain="[('company_id', '=', company_id), ('currency_id', '=', currency_id),"
        " ('active', 'in', (True, False))]",
        help="The plan version the period was billed with, or a corrected one.",
    )
    reason = fields.Text(required=True, help="Why the period is corrected (shown on the invoice).")
    held_count = fields.Integer(compute="_compute_held_count", string="Usage held in quarantine")
    release_held_usage = fields.Boolean(
        string="Bill the held usage",
        help="Accept the usage of this period quarantined because it was already invoiced.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        statement = self.env["usage.statement"].browse(values.get("statement_id"))
        if statement:
            values.setdefault("plan_id", statement.plan_id.id)
            held = self.env["usage.period.correction"]._held_usage(statement)
            values.setdefault("release_held_usage", bool(held))
        return values

    @api.depends("statement_id")
    def _compute_held_count(self):
        correction = self.env["usage.period.correction"]
        for wizard in self:
            wizard.held_count = len(correction._held_usage(wizard.statement_id))

    def action_correct(self):
        self.ensure_one()
        statement = self.env["usage.period.correction"]._correct(
            self.statement_id, self.reason, self.plan_id, self.release_held_usage
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "usage.statement",
            "res_id": statement.id,
            "view_mode": "form",
        }
