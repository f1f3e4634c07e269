from odoo import models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    """Invoices that sell prepaid credit, and usage invoices that consumed some.

    Collection (posting, charging, paid events) extends account.move in
    account_move.py: one concept per file, on purpose.
    """

    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    def _credit_grants(self):
        # sudo: posting or paying an invoice (an accountant's act) moves the credit
        # it sells; grants are read here, never exposed.
        return self.env["usage.credit.grant"].sudo().search([("invoice_id", "in", self.ids)])

    def _usage_statements(self):
        # sudo: same reason, for the statements whose invoice this is.
        return self.sudo().usage_statement_ids

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._credit_grants()._on_invoice_posted()
        return posted

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._credit_grants()._on_invoice_paid()
        return result

    def button_draft(self):
        released = self._usage_statements().filtered(
            lambda s: s.credit_ledger_ids and not s.credit_applied
        )
        if released:
            raise UserError(
                self.env._(
                    "The prepaid credit of %s was given back when its invoice was cancelled: "
                    "invoice the usage anew instead of resetting this invoice.",
                    released[:1].name,
                )
            )
        sold = self._credit_grants().filtered("ledger_ids")
        if sold:
            raise UserError(
                self.env._(
                    "Invoice %s sold prepaid credit already recorded: void the credit "
                    "(a credit note) instead of resetting the invoice.",
                    sold.invoice_id[:1].name,
                )
            )
        return super().button_draft()

    def button_cancel(self):
        result = super().button_cancel()
        self._usage_statements()._release_credits()
        return result

    def unlink(self):
        self._usage_statements()._release_credits()
        return super().unlink()
