from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    crm_sync_overdue_notified = fields.Boolean(
        copy=False,
        readonly=True,
        help="The CRM was told that this invoice became overdue.",
    )

    def _crm_sync_tenants(self):
        invoices = self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
        if not invoices:
            return self.env["usage.tenant"]
        # sudo: accountants post invoices without access to usage tenants; the
        # tenants are only used to write the CRM outbox.
        return (
            self.env["usage.tenant"]
            .sudo()
            .search(
                [
                    ("partner_id.commercial_partner_id", "in", invoices.commercial_partner_id.ids),
                    ("company_id", "in", invoices.company_id.ids),
                ]
            )
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._crm_sync_tenants()._crm_sync_notify()
        return posted

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._crm_sync_tenants()._crm_sync_notify()
        return result

    @api.model
    def _cron_crm_sync_overdue(self):
        """Push the accounts whose invoices became overdue since the last run.

        Becoming overdue is the passing of a date, not a write: an hourly scan
        finds the newly overdue invoices (flagged so each is pushed once).
        """
        # sudo: the cron pushes every company's overdue invoices.
        overdue = self.sudo().search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", fields.Date.context_today(self)),
                ("crm_sync_overdue_notified", "=", False),
            ]
        )
        overdue.write({"crm_sync_overdue_notified": True})
        overdue._crm_sync_tenants()._crm_sync_notify()
        return overdue
