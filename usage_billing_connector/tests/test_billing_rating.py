from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingRating(BillingCase):
    _runs = 0

    def _rate(self, charge, *quantities, metric=None):
        """Bill ``quantities`` of ``metric`` for January on a fresh tenant and plan."""
        TestBillingRating._runs += 1
        metric = metric or self.calls
        tenant = self._make_tenant(f"rate-{self._runs}", self.partner_a)
        plan = self._plan(f"p-{self._runs}", [{"metric_id": metric.id, **charge}])
        subscription = self.subscribe(plan, tenant=tenant)
        for quantity in quantities:
            self.usage(metric, quantity, tenant=tenant)
        (statement,) = self.close(subscription)
        return self.line(statement, metric)

    def test_graduated_prices_each_tier_at_its_boundaries(self):
        tiers = self.tiers((10000, 0.0), (100000, 0.002), (None, 0.001))
        charge = {"pricing_model": "graduated", "tier_ids": tiers}
        self.assertEqual(self._rate(charge, 10000).amount, 0.0)
        self.assertEqual(self._rate(charge, 10001).amount, 0.0)  # 0.002 rounds to 0.00
        self.assertEqual(self._rate(charge, 100000).amount, 180.0)
        self.assertEqual(self._rate(charge, 100000, 1000).amount, 181.0)
        line = self._rate(charge, 250000)
        self.assertEqual(line.amount, 330.0)
        self.assertIn("90,000 × 0.002 = 180.00", line.breakdown)

    def test_volume_prices_all_units_at_the_tier_reached(self):
        tiers = self.tiers((100, 0.25), (1000, 0.20), (None, 0.15))
        charge = {"pricing_model": "volume", "tier_ids": tiers}
        self.assertEqual(self._rate(charge, 100, metric=self.storage).amount, 25.0)
        self.assertEqual(self._rate(charge, 101, metric=self.storage).amount, 20.2)
        self.assertEqual(self._rate(charge, 1001, metric=self.storage).amount, 150.15)

    def test_max_aggregation_with_allowance_before_tiers(self):
        tiers = self.tiers((100, 0.25), (1000, 0.20), (None, 0.15))
        charge = {"pricing_model": "volume", "tier_ids": tiers, "included_quantity": 5}
        line = self._rate(charge, 30, 120, 90, metric=self.storage)
        self.assertEqual((line.quantity, line.included, line.billable), (120, 5, 115))
        self.assertEqual(line.amount, 23.0)

    def test_per_unit_with_allowance_counts_distinct_users(self):
        plan = self._plan(
            "users", [{"metric_id": self.users.id, "unit_price": 4.0, "included_quantity": 10}]
        )
        subscription = self.subscribe(plan)
        for n in range(14):
            self.usage(self.users, 1, user_id=f"u{n}")
            self.usage(self.users, 1, user_id=f"u{n}")  # the same user twice counts once
        (statement,) = self.close(subscription)
        line = self.line(statement, self.users)
        self.assertEqual((line.quantity, line.billable, line.amount), (14, 4, 16.0))

    def test_package_rounds_blocks_up(self):
        charge = {"pricing_model": "package", "package_size": 1000, "package_price": 5.0}
        self.assertEqual(self._rate(charge, 1000).amount, 5.0)
        self.assertEqual(self._rate(charge, 1001).amount, 10.0)
        self.assertEqual(self._rate(charge, 0).amount, 0.0)

    def test_minimum_applies_even_without_usage(self):
        charge = {"pricing_model": "per_unit", "unit_price": 0.01, "minimum_amount": 25.0}
        self.assertEqual(self._rate(charge).amount, 25.0)
        self.assertEqual(self._rate(charge, 3000).amount, 30.0)

    def test_currency_rounding_happens_once_at_the_line(self):
        # 3 events of 0.333 units at 1.00: rated on the sum (0.999 -> 1.00), not per event.
        charge = {"pricing_model": "per_unit", "unit_price": 1.0}
        self.assertEqual(self._rate(charge, 0.333, 0.333, 0.333).amount, 1.0)
