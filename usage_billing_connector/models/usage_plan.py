from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..exceptions import SubscriptionChangeError

# Fields whose change alters what a customer is charged: frozen once invoiced.
PRICING_FIELDS = {
    "currency_id",
    "billing_interval",
    "fee_product_id",
    "fee_unit_price",
    "fee_timing",
    "charge_ids",
    "commitment_amount",
    "commitment_product_id",
}


class UsagePlan(models.Model):
    _name = "usage.plan"
    _description = "Usage Plan"
    _order = "code, version desc"
    _rec_names_search = ["code", "name"]
    _check_company_auto = True

    code = fields.Char(required=True, help="Sent as 'plan' in subscription events.")
    name = fields.Char(required=True, translate=True)
    version = fields.Integer(required=True, default=1, readonly=True)
    previous_version_id = fields.Many2one("usage.plan", readonly=True, copy=False)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    billing_interval = fields.Selection(
        [("monthly", "Monthly"), ("quarterly", "Quarterly"), ("yearly", "Yearly")],
        required=True,
        default="monthly",
    )
    fee_product_id = fields.Many2one(
        "product.product", string="Recurring fee product", check_company=True
    )
    fee_unit_price = fields.Monetary(
        string="Fee per seat", currency_field="currency_id", help="Per seat and period."
    )
    fee_timing = fields.Selection(
        [("in_advance", "In advance"), ("in_arrears", "In arrears")],
        required=True,
        default="in_arrears",
    )
    charge_ids = fields.One2many("usage.plan.charge", "plan_id", string="Usage charges", copy=True)
    commitment_amount = fields.Monetary(
        string="Minimum spend per period",
        currency_field="currency_id",
        help="Commitment: when the usage charged in a period is below it, the statement adds "
        "a true-up line to it. Per-charge minimums count as usage charged.",
    )
    commitment_product_id = fields.Many2one(
        "product.product",
        string="Commitment true-up product",
        check_company=True,
        help="Product (and so income account and taxes) of the true-up invoice line.",
    )
    is_invoiced = fields.Boolean(compute="_compute_is_invoiced")

    # One price list per currency: the same plan code may be offered in several
    # currencies, each with its own versions, so no customer is billed in a
    # currency its plan is not priced in.
    _code_version_uniq = models.Constraint(
        "UNIQUE(company_id, code, currency_id, version)",
        "A plan code has one row per version, currency and company.",
    )
    _one_active_version = models.UniqueIndex(
        "(company_id, code, currency_id) WHERE active",
        "Only one version of a plan's price list in a currency can be active.",
    )

    _commitment_positive = models.Constraint(
        "CHECK(commitment_amount IS NULL OR commitment_amount >= 0)",
        "A commitment cannot be negative.",
    )

    @api.constrains("commitment_amount", "commitment_product_id")
    def _check_commitment_product(self):
        for plan in self:
            if plan.commitment_amount and not plan.commitment_product_id:
                raise ValidationError(
                    self.env._("Plan %s: a minimum spend needs its true-up product.", plan.name)
                )

    @api.depends("code", "name", "version")
    def _compute_display_name(self):
        for plan in self:
            suffix = f" v{plan.version}" if plan.version > 1 else ""
            plan.display_name = f"{plan.name} ({plan.code}{suffix})"

    def _compute_is_invoiced(self):
        # sudo: a plan's price freeze must not depend on who may read statements.
        invoiced = set(
            self.env["usage.statement.line"]
            .sudo()
            .search([("plan_id", "in", self.ids)])
            .mapped("plan_id")
            .ids
        )
        for plan in self:
            plan.is_invoiced = plan.id in invoiced

    def write(self, vals):
        if PRICING_FIELDS & set(vals):
            self._check_not_invoiced()
        return super().write(vals)

    def _check_not_invoiced(self):
        self.invalidate_recordset(["is_invoiced"])  # not stored: statements may be new
        frozen = self.filtered("is_invoiced")
        if frozen:
            raise UserError(
                self.env._(
                    "Plan %(plan)s has been invoiced: its prices are frozen. "
                    "Use 'New version' to change them.",
                    plan=frozen[0].display_name,
                )
            )

    def action_new_version(self):
        """Copy the plan with its charges as the next version and move subscriptions to it.

        Statements already written keep the prices they were rated with; open
        periods are rated with the new version.
        """
        self.ensure_one()
        self.active = False
        self.flush_recordset(["active"])  # before the copy meets the one-active index
        new = self.copy(
            {"version": self.version + 1, "previous_version_id": self.id, "active": True}
        )
        subscriptions = self.env["usage.subscription"].search([("plan_id", "=", self.id)])
        subscriptions._switch_plan_version(new)
        return {
            "type": "ir.actions.act_window",
            "res_model": "usage.plan",
            "res_id": new.id,
            "view_mode": "form",
        }

    @api.model
    def _current_for_code(self, code, company, currency=None):
        domain = [("code", "=", code), ("company_id", "=", company.id)]
        if currency:
            domain.append(("currency_id", "=", currency.id))
        return self.search(domain, limit=1)

    @api.model
    def _for_tenant(self, code, tenant):
        """The active price list of plan ``code`` in the tenant's currency, else a rejection."""
        plan = self._current_for_code(code, tenant.company_id, tenant.currency_id)
        if plan:
            return plan
        other = self._current_for_code(code, tenant.company_id)
        if other:
            raise SubscriptionChangeError(
                "currency_mismatch",
                self.env._(
                    "Plan %(code)s has no price list in %(currency)s, the currency of tenant "
                    "%(tenant)s (it is priced in %(others)s).",
                    code=code,
                    currency=tenant.currency_id.name,
                    tenant=tenant.external_id,
                    others=", ".join(
                        self.search(
                            [("code", "=", code), ("company_id", "=", tenant.company_id.id)]
                        ).currency_id.mapped("name")
                    ),
                ),
            )
        raise SubscriptionChangeError("unknown_plan", f"No active plan with code {code}.")
