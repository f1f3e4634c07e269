from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..core import credits
from ..core.numbers import to_decimal

#: The tenant's credits that can pay today, locked in consumption order: a
#: second billing job for the same tenant waits here until the first commits
#: (and then, under REPEATABLE READ, fails to serialize and is retried).
LOCK_AVAILABLE_SQL = """
SELECT id FROM usage_credit_grant
 WHERE tenant_id = %s AND state = 'active' AND remaining > 0
   AND (expiry_date IS NULL OR expiry_date >= %s)
 ORDER BY id
   FOR UPDATE
"""


class UsageStatement(models.Model):
    """Prepaid credit on statements: consumed when the statement is approved.

    Why approval and not the close: a statement waiting for approval may still
    be rejected and rated again, and its invoice is only drafted at approval.
    Consuming then, in the transaction that drafts the invoice and under the
    statement's row lock (``_lock_for_decision``), means the credit applied is
    exactly the one on the invoice, once, and a rejected statement never holds
    credit.  With approval switched off, closing approves in the same
    transaction, so it is the same moment.
    """

    _inherit = "usage.statement"

    credit_ledger_ids = fields.One2many(
        "usage.credit.ledger", "statement_id", string="Credit applied", readonly=True
    )
    credit_applied = fields.Monetary(compute="_compute_credit_applied")
    amount_due = fields.Monetary(
        string="Due after credit",
        compute="_compute_credit_applied",
        help="What the customer is invoiced before taxes, once prepaid credit is applied.",
    )

    @api.depends("credit_ledger_ids.amount", "amount_untaxed")
    def _compute_credit_applied(self):
        for statement in self:
            applied = -sum(statement.credit_ledger_ids.mapped("amount"))
            statement.credit_applied = applied
            statement.amount_due = statement.amount_untaxed - applied

    def _create_invoices(self):
        for statement in self.filtered(lambda s: not s.invoice_id):
            statement._consume_credits()
        return super()._create_invoices()

    def _consume_credits(self):
        """Pay the statement's eligible charges from the tenant's credits, once."""
        self.ensure_one()
        if self.credit_ledger_ids.filtered(lambda line: line.kind == "consume"):
            return  # already paid (the unique index would refuse a second time anyway)
        today = fields.Date.context_today(self)
        # sudo: the approver (or the billing job) spends the tenant's credit,
        # which managers grant; the statement is what authorises it.
        grants = self.env["usage.credit.grant"].sudo()
        grants.flush_model(["tenant_id", "state", "remaining", "expiry_date"])
        self.env.cr.execute(LOCK_AVAILABLE_SQL, [self.tenant_id.id, today])
        available = grants.browse([row[0] for row in self.env.cr.fetchall()])
        if not available:
            return
        available.invalidate_recordset(["remaining", "state"])
        eligible = credits.eligible_amount(
            [(line.kind, to_decimal(line.amount)) for line in self.line_ids],
            include_fees=self.company_id.usage_credit_pay_fees,
        )
        allocation = credits.allocate(eligible, available._to_core(), today)
        for grant_id, amount in allocation:
            grants.browse(grant_id)._move("consume", -amount, statement=self)
        if allocation:
            self.tenant_id._check_credit_low_balance()

    def _invoice_values(self):
        values = super()._invoice_values()
        values["invoice_line_ids"] += self._credit_invoice_lines()
        return values

    def _credit_invoice_lines(self):
        """One negative line per credit kind: the liability (sold) or the promotion (free).

        On the usage invoice itself, so that revenue is recognised at full price
        and the liability reduced in the same posting; untaxed, because the
        usage lines carry the tax on what was consumed.
        """
        self.ensure_one()
        by_kind = defaultdict(Decimal)
        names = defaultdict(list)
        for line in self.credit_ledger_ids:
            by_kind[line.grant_kind] += to_decimal(line.amount)
            names[line.grant_kind].append(line.grant_id.name)
        company = self.company_id
        accounts = {
            "purchased": company.usage_credit_liability_account_id,
            "granted": company.usage_credit_promo_account_id,
        }
        labels = {
            "purchased": self.env._("Prepaid credit applied"),
            "granted": self.env._("Promotional credit applied"),
        }
        commands = []
        for kind, amount in sorted(by_kind.items()):
            if not amount:
                continue
            if not accounts[kind]:
                raise UserError(
                    self.env._("Set the %s account in the Usage Billing settings.", labels[kind])
                )
            commands.append(
                fields.Command.create(
                    {
                        "name": f"{labels[kind]} ({', '.join(sorted(set(names[kind])))})",
                        "quantity": 1,
                        "price_unit": float(amount),  # negative: consumed is signed out
                        "account_id": accounts[kind].id,
                        "tax_ids": [fields.Command.clear()],
                    }
                )
            )
        return commands

    def _release_credits(self, refund=None):
        """Give the statement's consumed credit back, in the ledger ("released").

        Without ``refund`` its invoice is cancelled or deleted: everything still
        held (consumed minus released) goes back, so a second cancel is a no-op.
        With a posted ``refund`` (a credit note of its invoice), what the credit
        note puts back on the liability (sold credit) and promotional (free
        credit) accounts goes back, latest consumption first: the ledger follows
        the journal.  A grant closed since (expired, voided) closes what it gets
        back at once (``usage.credit.grant._close_given_back``).
        """
        for statement in self:
            held = defaultdict(Decimal)
            for line in statement.credit_ledger_ids.sorted("id", reverse=True):
                held[line.grant_id] += to_decimal(line.amount)
            back = statement._credit_given_back(refund, held)
            for grant, amount in back:
                # sudo: as for consumption, the statement authorises the movement.
                grant.sudo()._move("release", amount, statement=statement, move=refund)
                grant.sudo()._close_given_back()
            if back:
                statement.tenant_id._check_credit_low_balance()

    def _credit_given_back(self, refund, held):
        """``[(grant, amount)]`` to release, from ``held`` (grant: signed amount still held)."""
        self.ensure_one()
        held = [(grant, -amount) for grant, amount in held.items() if amount < 0]
        if refund is None:
            return held
        company = self.company_id
        accounts = {
            "purchased": company.usage_credit_liability_account_id,
            "granted": company.usage_credit_promo_account_id,
        }
        back = []
        for kind, account in accounts.items():
            to_release = -refund._credit_account_amount(account) if account else Decimal(0)
            for grant, amount in held:
                if grant.kind == kind and to_release > 0:
                    back.append((grant, min(amount, to_release)))
                    to_release -= min(amount, to_release)
            if to_release > 0:
                raise UserError(
                    self.env._(
                        "Credit note %(refund)s gives back more prepaid credit than invoice "
                        "%(invoice)s took from it.",
                        refund=refund.display_name,
                        invoice=self.invoice_id.display_name,
                    )
                )
        return back
