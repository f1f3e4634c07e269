from odoo import Command
from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestPlanPricingCache(BillingCase):
    """A plan's charges are read once per worker, yet every edit of a draft plan is
    billed at once: the product may have read usage (which fills the cache) before
    the accountant corrects a price, and the statement must bill the corrected one.
    """

    def setUp(self):
        super().setUp()
        self.plan = self._plan(
            f"cached-{self.id()[-12:]}",
            [
                {
                    "metric_id": self.calls.id,
                    "pricing_model": "graduated",
                    "tier_ids": self.tiers((100, 1.0), (None, 0.5)),
                },
                {"metric_id": self.storage.id, "unit_price": 2.0, "included_quantity": 10},
            ],
        )
        self.subscription = self.subscribe(self.plan)
        self.usage(self.calls, 300)  # 100 × 1.00 + 200 × 0.50 = 200.00
        self.usage(self.storage, 30)  # (30 - 10) × 2.00 = 40.00
        self.calls_charge, self.storage_charge = self.plan.charge_ids
        self.plan._charge_terms()  # what a read API answer does before the edit

    def billed(self):
        (statement,) = self.close(self.subscription)
        return {line.metric_id: line.amount for line in statement.line_ids if line.metric_id}

    def test_the_terms_are_built_once(self):
        with self.assertQueryCount(0):
            terms = self.plan._charge_terms()
        self.assertEqual([t.metric_id for t in terms], [self.calls.id, self.storage.id])
        self.assertEqual(self.billed(), {self.calls: 200.0, self.storage: 40.0})

    def test_an_edited_tier_is_billed(self):
        self.calls_charge.tier_ids.filtered(lambda t: not t.up_to).unit_price = 0.25
        self.assertEqual(self.billed(), {self.calls: 150.0, self.storage: 40.0})

    def test_an_added_tier_is_billed(self):
        self.env["usage.plan.tier"].create(
            {"charge_id": self.calls_charge.id, "up_to": 200, "unit_price": 0.75}
        )  # 100 × 1.00 + 100 × 0.75 + 100 × 0.50
        self.assertEqual(self.billed(), {self.calls: 225.0, self.storage: 40.0})

    def test_a_deleted_tier_is_billed(self):
        self.calls_charge.tier_ids.filtered("up_to").unlink()  # all 300 at 0.50
        self.assertEqual(self.billed(), {self.calls: 150.0, self.storage: 40.0})

    def test_an_edited_charge_is_billed(self):
        self.storage_charge.included_quantity = 20
        self.assertEqual(self.billed(), {self.calls: 200.0, self.storage: 20.0})

    def test_charges_added_and_removed_through_the_plan_are_billed(self):
        self.plan.charge_ids = [
            Command.unlink(self.storage_charge.id),
            Command.create({"metric_id": self.users.id, "unit_price": 3.0}),
        ]
        self.usage(self.users, 1, user_id="u1")
        billed = self.billed()
        self.assertEqual(billed[self.calls], 200.0)
        self.assertEqual(billed[self.users], 3.0)
        self.assertEqual(billed[self.storage], 0.0)  # shown, no longer charged
