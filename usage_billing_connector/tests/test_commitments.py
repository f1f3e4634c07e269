from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestCommitmentProration(BillingCase):
    """A commitment counts for the time it is in force, like the recurring fee.

    April 2026 has 30 days: the 16th at 00:00 is exactly half way.
    """

    APRIL = "2026-04-01 00:00:00"
    MID_APRIL = "2026-04-16 00:00:00"
    MAY = "2026-05-01 00:00:01"

    def setUp(self):
        super().setUp()
        self.small_product = self._service("Small commitment")
        self.large_product = self._service("Large commitment")
        self.small = self._committed_plan("small", 100.0, self.small_product)
        self.large = self._committed_plan("large", 300.0, self.large_product)

    def _committed_plan(self, code, committed, product):
        plan = self._plan(code, [{"metric_id": self.calls.id, "unit_price": 1.0}])
        plan.write({"commitment_amount": committed, "commitment_product_id": product.id})
        return plan

    def _april(self, subscription, calls=20):
        self.usage(self.calls, calls, when="2026-04-10 12:00:00")
        (statement,) = self.close(subscription, self.MAY)
        return statement, self.line(statement, kind="commitment")

    def test_activated_half_way_commits_half(self):
        subscription = self.subscribe(self.small, start=self.APRIL, state="trial")
        subscription._apply_change("activated", self.MID_APRIL)
        statement, true_up = self._april(subscription)
        self.assertEqual(statement.commitment_amount, 50.0)
        self.assertEqual(true_up.amount, 30.0)  # 100 × 1/2 - 20
        self.assertIn("prorated", true_up.name)
        self.assertIn("50.00% of 2026-04-01 – 2026-04-30", true_up.breakdown)

    def test_started_inside_its_first_period_commits_from_its_start(self):
        subscription = self.env["usage.subscription"].create(
            {
                "tenant_id": self.tenant.id,
                "plan_id": self.small.id,
                "start_date": self.MID_APRIL,
                "billing_anchor": self.APRIL,
            }
        )
        statement, true_up = self._april(subscription, calls=0)
        self.assertEqual((statement.commitment_amount, true_up.amount), (50.0, 50.0))

    def test_cancelled_half_way_commits_half(self):
        subscription = self.subscribe(self.small, start=self.APRIL)
        subscription._apply_change("cancelled", self.MID_APRIL)
        statement, true_up = self._april(subscription)
        self.assertEqual((statement.commitment_amount, true_up.amount), (50.0, 30.0))

    def test_plan_change_half_way_each_half_with_its_plan_commitment(self):
        subscription = self.subscribe(self.small, start=self.APRIL)
        subscription._apply_change("plan_changed", self.MID_APRIL, plan=self.large)
        statement, true_up = self._april(subscription)
        self.assertEqual(statement.commitment_amount, 200.0)  # 100 / 2 + 300 / 2
        self.assertEqual(true_up.amount, 180.0)
        self.assertEqual((true_up.product_id, true_up.plan_id), (self.large_product, self.large))
        self.assertEqual(len(true_up.breakdown.splitlines()), 2, true_up.breakdown)
        statement.action_approve()
        self.assertEqual(statement.invoice_id.amount_untaxed, 200.0)

    def test_moved_to_a_plan_without_commitment_trues_up_the_committed_half(self):
        plain = self._plan("plain", [{"metric_id": self.calls.id, "unit_price": 1.0}])
        subscription = self.subscribe(self.large, start=self.APRIL)
        subscription._apply_change("plan_changed", self.MID_APRIL, plan=plain)
        statement, true_up = self._april(subscription)
        self.assertEqual((statement.commitment_amount, true_up.amount), (150.0, 130.0))
        self.assertEqual(true_up.product_id, self.large_product, "the committed plan's product")

    def test_a_whole_period_is_not_prorated(self):
        subscription = self.subscribe(self.small, start=self.APRIL)
        statement, true_up = self._april(subscription)
        self.assertEqual((statement.commitment_amount, true_up.amount), (100.0, 80.0))
        self.assertNotIn("prorated", true_up.name)
        self.assertFalse(true_up.breakdown)


@tagged("post_install", "-at_install")
class TestLateUsageCommitment(BillingCase):
    """Late usage of a stated period is measured against the commitment of that period."""

    def setUp(self):
        super().setUp()
        self.product = self._service("Commitment")
        self.plan = self._plan("commit", [{"metric_id": self.calls.id, "unit_price": 1.0}])
        self.plan.write({"commitment_amount": 100.0, "commitment_product_id": self.product.id})
        self.subscription = self.subscribe(self.plan)
        self.usage(self.calls, 60)
        (self.january,) = self.close(self.subscription)
        self.assertEqual(self.january.commitment_amount, 100.0)
        self.assertEqual(self.line(self.january, kind="commitment").amount, 40.0)

    def _late_january(self, calls=30):
        """``calls`` late for January, billed with February: (late line, adjustment, February)."""
        self.usage(self.calls, calls, when="2026-01-20 00:00:00")
        (february,) = self.close(self.subscription, now="2026-03-01 00:00:01")
        late = self.line(february, self.calls, kind="late_usage")
        adjustment = february.line_ids.filtered(
            lambda line: (
                line.kind == "commitment" and line.period_start == self.january.period_start
            )
        )
        return late, adjustment, february

    def test_a_new_plan_version_does_not_change_a_stated_period_commitment(self):
        self.plan.action_new_version()
        version_2 = self.subscription.plan_id
        version_2.commitment_amount = 300.0
        late, adjustment, february = self._late_january()
        # January: 60 + 30 of usage against its 100: the true-up shrinks by 30.
        self.assertEqual((late.amount, adjustment.amount), (30.0, -30.0))
        self.assertEqual(adjustment.plan_id, self.plan, "January's plan version")
        # February itself is measured against version 2.
        self.assertEqual(february.commitment_amount, 300.0)
        true_up = february.line_ids.filtered(
            lambda line: line.kind == "commitment" and line.period_start == february.period_start
        )
        self.assertEqual(true_up.amount, 300.0)

    def test_a_changed_customer_commitment_applies_from_the_next_period_only(self):
        self.subscription.commitment_amount = 500.0
        late, adjustment, february = self._late_january()
        self.assertEqual((late.amount, adjustment.amount), (30.0, -30.0))
        self.assertEqual(february.commitment_amount, 500.0)
        january_total = sum(
            (self.january | february)
            .line_ids.filtered(lambda line: line.period_start == self.january.period_start)
            .mapped("amount")
        )
        self.assertEqual(january_total, 100.0, "January still costs its commitment")
