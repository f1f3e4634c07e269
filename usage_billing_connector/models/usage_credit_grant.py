from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..core import credits
from ..core.numbers import to_decimal
from ..utils.actions import form_action

#: The only way ``remaining`` changes: refused (no row) when it would go below zero.
MOVE_SQL = (
    "UPDATE usage_credit_grant SET remaining = remaining + %s, write_date = now() "
    "WHERE id = %s AND remaining + %s >= 0 RETURNING remaining"
)

STATES = [
    ("draft", "Draft"),
    ("invoiced", "Awaiting payment"),
    ("active", "Available"),
    ("expired", "Expired"),
    ("voided", "Voided"),
]


class UsageCreditGrant(models.Model):
    """Prepaid credit of a tenant, in the tenant's currency.

    ``remaining`` only changes through :meth:`_move`, which updates it with a
    conditional ``UPDATE ... WHERE remaining + delta >= 0`` and writes the
    ledger line in the same transaction: the grant's remaining is always the
    sum of its ledger lines, and the CHECK constraint makes "negative" a
    database error, whatever the code above it does.
    """

    _name = "usage.credit.grant"
    _description = "Prepaid Credit Grant"
    _inherit = ["usage.numbered.mixin", "mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    tenant_id = fields.Many2one(
        "usage.tenant", required=True, index=True, check_company=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(related="tenant_id.partner_id", store=True, index=True)
    currency_id = fields.Many2one(related="tenant_id.currency_id", store=True)
    kind = fields.Selection(
        [("purchased", "Purchased"), ("granted", "Granted (promotional)")],
        required=True,
        default="purchased",
        tracking=True,
    )
    reason = fields.Text(tracking=True, help="Why a free credit is granted (required for those).")
    amount = fields.Monetary(required=True, tracking=True)
    remaining = fields.Monetary(readonly=True, copy=False, required=True, default=0.0)
    expiry_date = fields.Date(tracking=True, help="Last day the credit can pay usage.")
    priority = fields.Integer(
        default=10, help="Among credits expiring the same day, the lower number is used first."
    )
    state = fields.Selection(STATES, required=True, default="draft", readonly=True, tracking=True)
    invoice_id = fields.Many2one("account.move", readonly=True, copy=False, check_company=True)
    ledger_ids = fields.One2many("usage.credit.ledger", "grant_id", readonly=True)

    _remaining_not_negative = models.Constraint(
        "CHECK(remaining >= 0)", "A credit can never be consumed below zero."
    )
    _remaining_within_amount = models.Constraint(
        "CHECK(remaining <= amount)", "A credit cannot hold more than it was granted."
    )
    _amount_positive = models.Constraint("CHECK(amount > 0)", "A credit amount is positive.")
    _available_idx = models.Index("(tenant_id, expiry_date, priority, id) WHERE state = 'active'")

    def write(self, vals):
        if {"amount", "tenant_id", "kind"} & set(vals) and self.filtered(
            lambda g: g.state != "draft"
        ):
            raise UserError(self.env._("Only a draft credit can change its amount or tenant."))
        result = super().write(vals)
        if {"state", "expiry_date"} & set(vals):
            self._invalidate_balances()
        return result

    def _invalidate_balances(self):
        """Balances shown on tenants and customers are computed, not stored: read anew."""
        self.env["usage.tenant"].invalidate_model(["credit_balance", "credit_expiries"])
        self.env["res.partner"].invalidate_model(["usage_credit_summary"])

    @api.constrains("kind", "reason")
    def _check_reason(self):
        for grant in self:
            if grant.kind == "granted" and not (grant.reason or "").strip():
                raise ValidationError(self.env._("Say why credit %s is granted.", grant.name))

    # ------------------------------------------------------------------ actions

    def action_confirm(self):
        """Granted: available now. Purchased: its customer invoice is drafted."""
        for grant in self:
            if grant.state != "draft":
                raise UserError(self.env._("Credit %s is already confirmed.", grant.name))
            if grant.kind == "granted":
                if not self.env.user.has_group(
                    "usage_billing_connector.group_usage_billing_manager"
                ):
                    raise AccessError(self.env._("Only billing administrators grant free credit."))
                grant._move("grant", grant.amount)
                grant.state = "active"
                grant.tenant_id._check_credit_low_balance()
            else:
                grant.invoice_id = grant._create_purchase_invoice()
                grant.state = "invoiced"
        return True

    def _create_purchase_invoice(self):
        self.ensure_one()
        company = self.company_id
        account = company.usage_credit_liability_account_id
        if not (company.usage_credit_product_id and account):
            raise UserError(
                self.env._(
                    "Set the prepaid credit product and liability account in the Usage "
                    "Billing settings of %s first.",
                    company.name,
                )
            )
        return (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id.id,
                    "currency_id": self.currency_id.id,
                    "invoice_origin": self.name,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": company.usage_credit_product_id.id,
                                "name": self.env._("Prepaid credit %s", self.name),
                                "quantity": 1,
                                "price_unit": self.amount,
                                # The liability, not income: revenue comes with the usage.
                                "account_id": account.id,
                                # Sold as a multi-purpose voucher: tax is due on the usage
                                # it pays for, on the usage invoice.
                                "tax_ids": [fields.Command.clear()],
                            }
                        )
                    ],
                }
            )
        )

    def action_view_invoice(self):
        self.ensure_one()
        return form_action(self.invoice_id)

    def action_void(self):
        """Take back what is left: a free credit simply; a sold one with a credit note."""
        for grant in self:
            if grant.state == "draft":
                grant.state = "voided"
                continue
            if grant.state not in ("invoiced", "active"):
                raise UserError(self.env._("Credit %s is already closed.", grant.name))
            if grant.kind == "purchased" and grant.invoice_id.state != "posted":
                grant.invoice_id.button_cancel()
                grant.state = "voided"
                continue
            grant._void_remaining()
            grant.state = "voided"
            grant.tenant_id._check_credit_low_balance()
        return True

    def _void_remaining(self):
        """Take back what is left: a sold credit's by a posted credit note
        (its posting writes the ledger line, ``_on_refund_posted``), a free one's simply."""
        self.ensure_one()
        if self.kind == "purchased":
            self._post_refund()
        elif self.remaining:
            self._move("void", -self.remaining)

    def _on_refund_posted(self, refund):
        """A credit note of this credit's sale is posted: void what it gives back, or refuse.

        Only what is left can be given back: consumed credit is revenue already and
        expired credit breakage income, so refunding more than ``remaining`` would
        leave the liability account below the ledger.  Our own refund (*Void*) and
        one made by hand from the invoice take this same path.
        """
        self.ensure_one()
        account = self.company_id.usage_credit_liability_account_id
        given_back = refund._credit_account_amount(account)
        if given_back <= 0:
            return
        if given_back > to_decimal(self.remaining):
            raise UserError(
                self.env._(
                    "Credit note %(refund)s gives back %(amount)s of prepaid credit %(credit)s, "
                    "which has only %(remaining)s left (the rest was consumed or has expired). "
                    "Refund at most what is left, or use 'Void' on the credit.",
                    refund=refund.display_name,
                    amount=self.currency_id.format(float(given_back)),
                    credit=self.name,
                    remaining=self.currency_id.format(self.remaining),
                )
            )
        self._move("void", -given_back, move=refund)
        if not self.remaining:
            self.state = "voided"
        self.tenant_id._check_credit_low_balance()

    def _post_refund(self):
        """Credit note of what is left of a sold credit: the liability goes back to the customer."""
        if not self.remaining:
            return None
        refund = (
            self.env["account.move"]
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": self.partner_id.id,
                    "currency_id": self.currency_id.id,
                    "invoice_origin": self.name,
                    "reversed_entry_id": self.invoice_id.id,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "name": self.env._("Refund of unused credit %s", self.name),
                                "quantity": 1,
                                "price_unit": self.remaining,
                                "account_id": self.company_id.usage_credit_liability_account_id.id,
                                "tax_ids": [fields.Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        refund.action_post()
        return refund

    # ------------------------------------------------------------------ ledger

    def _move(self, kind, delta, statement=None, move=None):
        """Change ``remaining`` by ``delta`` and write the ledger line, or fail.

        The conditional UPDATE is what stops a double spend: a concurrent
        consumption that already took the credit leaves ``remaining`` too low
        and this one updates no row (and the CHECK would refuse it anyway).
        """
        self.ensure_one()
        delta = to_decimal(delta)
        self.flush_recordset(["remaining"])
        self.env.cr.execute(MOVE_SQL, [delta, self.id, delta])
        if not self.env.cr.fetchone():
            raise UserError(
                self.env._(
                    "Credit %(credit)s does not hold %(amount)s any more.",
                    credit=self.name,
                    amount=-delta,
                )
            )
        self.invalidate_recordset(["remaining"])
        self._invalidate_balances()
        # sudo: ledger lines are written by these movements only, never by users.
        return (
            self.env["usage.credit.ledger"]
            .sudo()
            .create(
                {
                    "grant_id": self.id,
                    "kind": kind,
                    "amount": delta,
                    "statement_id": statement.id if statement else False,
                    "move_id": move.id if move else False,
                }
            )
        )

    def _to_core(self):
        return [
            credits.Grant(g.id, to_decimal(g.remaining), g.expiry_date or None, g.priority)
            for g in self
        ]

    # ------------------------------------------------------------------ invoice hooks

    def _on_invoice_posted(self):
        """The sold credit's liability exists from now on: so does its ledger line."""
        for grant in self.filtered(lambda g: g.state == "invoiced" and not g.ledger_ids):
            grant._move("purchase", grant.amount, move=grant.invoice_id)
            if grant.company_id.usage_credit_available_on == "posted":
                grant.state = "active"
                grant.tenant_id._check_credit_low_balance()

    def _on_invoice_paid(self):
        for grant in self.filtered(lambda g: g.state == "invoiced" and g.ledger_ids):
            grant.state = "active"
            grant.tenant_id._check_credit_low_balance()
