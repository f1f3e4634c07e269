from decimal import Decimal
from typing import NamedTuple

from odoo import api, models, tools

from ..core import pricing
from ..core.numbers import to_decimal


class ChargeTerms(NamedTuple):
    """One charge of a plan version as the rating and the read API use it."""

    metric_id: int
    charge: pricing.Charge
    included: Decimal  # the free allowance per period
    soft_limit: Decimal  # per period; 0: none
    hard_limit: Decimal  # per period; 0: none


class UsagePlan(models.Model):
    """A plan version's pricing, built once per worker instead of on every rating.

    Every read API answer and every billing job rates periods with their plan's
    charges and tiers; read through the ORM that is four queries and their Python
    per plan and request, more than the usage aggregate itself.  The terms are
    kept in the registry's ``ormcache`` and dropped, in every worker (Odoo's cache
    signaling), whenever a charge or a tier is created, written or deleted (a
    plan's own fields are not part of them; a deleted plan's entry is never asked
    for again).
    """

    _inherit = "usage.plan"

    def _charge_terms(self):
        """``(ChargeTerms, ...)`` of this plan, in the plan's charge order."""
        self.ensure_one()
        return self._charge_terms_of(self.id)

    @api.model
    @tools.ormcache("plan_id")
    def _charge_terms_of(self, plan_id):
        # sudo: prices are the same whoever asks; the cache is shared by all users
        # of the worker, and callers already read the plan they rate.
        plan = self.sudo().browse(plan_id)
        return tuple(
            ChargeTerms(
                charge.metric_id.id,
                charge._to_core(),
                to_decimal(charge.included_quantity),
                to_decimal(charge.soft_limit),
                to_decimal(charge.hard_limit),
            )
            for charge in plan.charge_ids
        )
