from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

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
