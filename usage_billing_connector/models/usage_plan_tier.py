from odoo import api, fields, models

from ..core import pricing
from ..core.numbers import to_decimal
from .usage_plan_charge import PRICE_DIGITS


class UsagePlanTier(models.Model):
    _name = "usage.plan.tier"
    _description = "Usage Plan Tier"
    _order = "charge_id, up_to_sort_key"

    charge_id = fields.Many2one("usage.plan.charge", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="charge_id.company_id", store=True)
    up_to = fields.Float(
        digits=(28, 9), help="Upper bound of the tier, in billable units; empty means no limit."
    )
    unit_price = fields.Float(digits=PRICE_DIGITS)
    flat_fee = fields.Float(digits=PRICE_DIGITS)
    up_to_sort_key = fields.Float(compute="_compute_up_to_sort_key", store=True)

    @api.depends("up_to")
    def _compute_up_to_sort_key(self):
        for tier in self:
            tier.up_to_sort_key = tier.up_to or 1e30

    def _to_core(self):
        return pricing.Tier(
            up_to=to_decimal(self.up_to) if self.up_to else None,
            unit_price=self.unit_price,
            flat_fee=self.flat_fee,
        )

    # Each change drops the plans' cached terms (``usage_plan_pricing.py``).
    @api.model_create_multi
    def create(self, vals_list):
        tiers = super().create(vals_list)
        tiers.charge_id.plan_id._check_not_invoiced()
        self.env.registry.clear_cache()
        return tiers

    def write(self, vals):
        self.charge_id.plan_id._check_not_invoiced()
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.charge_id.plan_id._check_not_invoiced()
        self.env.registry.clear_cache()
        return super().unlink()
