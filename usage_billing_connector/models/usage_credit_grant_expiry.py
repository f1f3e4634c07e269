from odoo import api, fields, models
from odoo.exceptions import UserError


class UsageCreditGrant(models.Model):
    """Expiry of prepaid credit: the daily cron, the breakage entry of sold credit,
    and credit given back to a grant that had already closed."""

    _inherit = "usage.credit.grant"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_expire(self):
        """Daily: expire the credits past their last day, committing one grant at a time."""
        due = self._due_for_expiry()
        for grant in due:
            grant._expire()
            if not self.env["ir.cron"]._commit_progress(1, remaining=len(due)):
                break

    @api.model
    def _expire_due(self):
        """Expire every credit past its last day (one transaction); how many."""
        due = self._due_for_expiry()
        for grant in due:
            grant._expire()
        return len(due)

    @api.model
    def _due_for_expiry(self):
        today = fields.Date.context_today(self)
        # sudo: expiry runs for the credits of every company.
        return self.sudo().search(
            [("state", "in", ("invoiced", "active")), ("expiry_date", "<", today)], order="id"
        )

    def _expire(self):
        self.ensure_one()
        self._expire_remaining()
        self.state = "expired"
        self.tenant_id._check_credit_low_balance()

    def _expire_remaining(self):
        """Sold credit left: breakage entry, then the ledger line; free credit: the line."""
        self.ensure_one()
        self = self.with_company(self.company_id)
        if self.remaining:
            move = self._post_breakage() if self.kind == "purchased" else None
            self._move("expire", -self.remaining, move=move)

    def _close_given_back(self):
        """Credit given back to a closed grant (a usage invoice cancelled or refunded after
        the credit expired or was voided) closes again at once, as the grant did: expired
        again with its breakage entry, or voided again with a credit note.  So the ledger
        still equals the liability account and no expired credit becomes spendable."""
        for grant in self:
            if grant.state == "expired":
                grant._expire_remaining()
            elif grant.state == "voided":
                grant._void_remaining()

    def _post_breakage(self):
        """Liability -> breakage income, for what expired unused (one journal entry)."""
        company = self.company_id
        if not company.usage_credit_breakage_account_id:
            raise UserError(self.env._("Set the expired credit account of %s.", company.name))
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "general")], limit=1
        )
        amount_currency = float(self.remaining)
        balance = self.currency_id._convert(
            amount_currency, company.currency_id, company, fields.Date.context_today(self)
        )
        label = self.env._("Expired prepaid credit %s", self.name)
        common = {"partner_id": self.partner_id.id, "currency_id": self.currency_id.id}
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "ref": label,
                "line_ids": [
                    fields.Command.create(
                        dict(
                            common,
                            name=label,
                            account_id=company.usage_credit_liability_account_id.id,
                            debit=balance,
                            amount_currency=amount_currency,
                        )
                    ),
                    fields.Command.create(
                        dict(
                            common,
                            name=label,
                            account_id=company.usage_credit_breakage_account_id.id,
                            credit=balance,
                            amount_currency=-amount_currency,
                        )
                    ),
                ],
            }
        )
        move.action_post()
        return move
