from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import pricing

PRICE_DIGITS = (16, 6)


class UsagePlanCharge(models.Model):
    _name = "usage.plan.charge"
    _description = "Usage Plan Charge"
    _order = "plan_id, sequence, id"
    _check_company_auto = True

    plan_id = fields.Many2one("usage.plan", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    metric_id = fields.Many2one("usage.metric", required=True, check_company=True)
    pricing_model = fields.Selection(
        [
            ("per_unit", "Per unit"),
            ("graduated", "Graduated tiers"),
            ("volume", "Volume tiers"),
            ("package", "Package"),
        ],
        required=True,
        default="per_unit",
    )
    unit_price = fields.Float(digits=PRICE_DIGITS)
    package_size = fields.Float(digits=(16, 6), default=1.0)
    package_price = fields.Float(digits=PRICE_DIGITS)
    included_quantity = fields.Float(digits=(28, 9), help="Free allowance per period.")
    minimum_amount = fields.Float(digits=PRICE_DIGITS, help="Minimum charged per period.")
    tier_ids = fields.One2many("usage.plan.tier", "charge_id", copy=True)
    # What the product may let a customer use per period (told by the read API;
    # usage beyond is still ingested and billed, never dropped).
    soft_limit = fields.Float(
        digits=(28, 9), help="Per period: past this, the product should warn (0: none)."
    )
    hard_limit = fields.Float(
        digits=(28, 9), help="Per period: past this, the product should block (0: none)."
    )

    _plan_metric_uniq = models.Constraint(
        "UNIQUE(plan_id, metric_id)", "A plan charges each metric once."
    )
    _limits_positive = models.Constraint(
        "CHECK(soft_limit >= 0 AND hard_limit >= 0)", "Limits cannot be negative."
    )

    @api.constrains("soft_limit", "hard_limit")
    def _check_limits(self):
        for charge in self:
            if charge.soft_limit and charge.hard_limit and charge.soft_limit > charge.hard_limit:
                raise ValidationError(
                    self.env._(
                        "Charge for %s: the soft limit is above the hard limit.",
                        charge.metric_id.code,
                    )
                )

    @api.constrains("pricing_model", "unit_price", "package_size", "package_price", "tier_ids")
    def _check_pricing(self):
        for charge in self:
            try:
                charge._to_core()
            except pricing.PricingError as exc:
                raise ValidationError(
                    self.env._(
                        "Charge for %(metric)s: %(error)s", metric=charge.metric_id.code, error=exc
                    )
                ) from None

    def _to_core(self):
        """The charge as the pure rating engine sees it."""
        self.ensure_one()
        tiers = ()
        if self.pricing_model in pricing.TIERED_MODELS:
            tiers = tuple(tier._to_core() for tier in self.tier_ids.sorted("up_to_sort_key"))
        return pricing.Charge(
            pricing_model=self.pricing_model,
            tiers=tiers,
            unit_price=self.unit_price,
            package_size=self.package_size,
            package_price=self.package_price,
            included_quantity=self.included_quantity,
            minimum_amount=self.minimum_amount,
        )

    # Each change drops the plans' cached terms (``usage_plan_pricing.py``).
    def write(self, vals):
        self.plan_id._check_not_invoiced()
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.plan_id._check_not_invoiced()
        self.env.registry.clear_cache()
        return super().unlink()

    @api.model_create_multi
    def create(self, vals_list):
        charges = super().create(vals_list)
        charges.plan_id._check_not_invoiced()
        self.env.registry.clear_cache()
        return charges
