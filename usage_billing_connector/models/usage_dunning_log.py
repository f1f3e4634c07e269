from odoo import fields, models

from ..utils.actions import form_action

ACTIONS = [
    ("overdue", "Became overdue"),
    ("retry", "Charge retried"),
    ("reminder", "Reminder sent"),
    ("suspend", "Subscription suspended"),
]
RESULTS = [("done", "Done"), ("skipped", "Skipped"), ("failed", "Failed")]

#: Claims a step for an invoice; the unique index makes the second claim a no-op,
#: so concurrent or repeated cron runs execute each step once per invoice.
CLAIM_SQL = """
INSERT INTO usage_dunning_log (invoice_id, company_id, step_id, key, action, result, date,
                               create_uid, write_uid, create_date, write_date)
VALUES (%(invoice)s, %(company)s, %(step)s, %(key)s, %(action)s, %(result)s, %(now)s,
        %(uid)s, %(uid)s, %(now)s, %(now)s)
ON CONFLICT (invoice_id, key) DO NOTHING
RETURNING id
"""


class UsageDunningLog(models.Model):
    """What dunning did to one invoice: one row per step (and one when it became overdue)."""

    _name = "usage.dunning.log"
    _description = "Usage Dunning Log"
    _order = "date desc, id desc"
    _check_company_auto = True

    invoice_id = fields.Many2one(
        "account.move", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    step_id = fields.Many2one("usage.dunning.step", ondelete="set null", readonly=True)
    key = fields.Char(required=True, readonly=True, help="step-<id>, or overdue.")
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    result = fields.Selection(RESULTS, required=True, default="done", readonly=True)
    date = fields.Datetime(required=True, readonly=True)
    note = fields.Text(readonly=True)
    transaction_id = fields.Many2one("payment.transaction", readonly=True)
    subscription_id = fields.Many2one("usage.subscription", readonly=True, index=True)
    reactivated = fields.Boolean(
        readonly=True, help="The suspension was reversed when the invoice was paid."
    )

    _invoice_key_uniq = models.UniqueIndex(
        "(invoice_id, key)", "A dunning step runs once per invoice."
    )

    def _claim(self, invoice, key, action, step=None, result="done"):
        """Insert the log row of ``key`` for ``invoice``; empty when it already ran."""
        self.env.flush_all()
        self.env.cr.execute(
            CLAIM_SQL,
            {
                "invoice": invoice.id,
                "company": invoice.company_id.id,
                "step": step.id if step else None,
                "key": key,
                "action": action,
                "result": result,
                "now": fields.Datetime.now(),
                "uid": self.env.uid,
            },
        )
        row = self.env.cr.fetchone()
        invoice.invalidate_recordset(["usage_dunning_log_ids"])
        return self.browse(row[0]) if row else self.browse()

    def action_open_invoice(self):
        """The dunned invoice, where collecting it goes on (payment, credit note)."""
        self.ensure_one()
        return form_action(self.invoice_id)
