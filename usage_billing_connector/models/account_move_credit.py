from odoo import models
from odoo.exceptions import UserError

from ..core.numbers import to_decimal


class AccountMove(models.Model):
    """Invoices that sell prepaid credit, usage invoices that consumed some, their credit notes.

    Every journal entry that moves the prepaid credit liability has its ledger
    line (``usage.credit.ledger``) written in the same transaction, so that the
    ledger of a customer's sold credit always equals the liability account.
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

    def _credit_account_amount(self, account):
        """What this entry debits ``account`` (negative: credits), in its currency, as Decimal."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.account_id == account)
        return to_decimal(self.currency_id.round(sum(lines.mapped("amount_currency"))))

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._credit_grants()._on_invoice_posted()
        for refund in posted.filtered(lambda m: m.move_type == "out_refund"):
            reversed_move = refund.reversed_entry_id
            for grant in reversed_move._credit_grants():
                grant._on_refund_posted(refund)
            reversed_move._usage_statements()._release_credits(refund)
        return posted

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._credit_grants()._on_invoice_paid()
        return result

    def button_draft(self):
        # Even in part: the credit note that gave it back stays on the liability account.
        released = self._usage_statements().filtered(
            lambda s: "release" in s.credit_ledger_ids.mapped("kind")
        )
        if released:
            raise UserError(
                self.env._(
                    "The prepaid credit of %s was given back when its invoice was cancelled "
                    "or refunded: invoice the usage anew instead of resetting this invoice.",
                    released[:1].name,
                )
            )
        # sudo: which entries moved credit is technical; the ledger is not for every user.
        recorded = self.env["usage.credit.ledger"].sudo().search([("move_id", "in", self.ids)])
        if recorded:
            raise UserError(
                self.env._(
                    "%(entry)s moved prepaid credit %(credit)s (its ledger says so): it cannot "
                    "go back to draft. Void the credit or issue a credit note instead.",
                    entry=recorded[:1].move_id.display_name,
                    credit=recorded[:1].grant_id.name,
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
