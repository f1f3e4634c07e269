from odoo import fields
from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingProration(BillingCase):
    """April 2026 has 30 days: the 16th at 00:00 is exactly half way."""

    APRIL = "2026-04-01 00:00:00"
    MID_APRIL = "2026-04-16 00:00:00"
    MAY = "2026-05-01 00:00:01"

    def setUp(self):
        super().setUp()
        self.basic = self._plan("basic", [], fee=100.0)
        self.pro = self._plan("pro", [], fee=300.0)

    def _fees(self, statement):
        return statement.line_ids.filtered(lambda line: line.kind == "fee").sorted("sequence")

    def test_full_period_bills_seats_times_price(self):
        subscription = self.subscribe(self.basic, seats=3, start=self.APRIL)
        (statement,) = self.close(subscription, self.MAY)
        self.assertEqual(self._fees(statement).mapped("amount"), [300.0])

    def test_activated_during_the_day_is_billed_from_then(self):
        # The API's activation anchors the periods at midnight of its day.
        subscription = self.env["usage.subscription"]._activate(
            self.tenant, self.basic, 1, fields.Datetime.to_datetime("2026-04-01 10:30:00")
        )
        (statement,) = self.close(subscription, self.MAY)
        self.assertEqual(self._fees(statement).mapped("amount"), [98.54])  # 100 × 709.5 h / 720 h

    def test_upgrade_mid_period_splits_the_fee_by_the_second(self):
        subscription = self.subscribe(self.basic, seats=1, start=self.APRIL)
        subscription._apply_change("plan_changed", self.MID_APRIL, plan=self.pro)
        (statement,) = self.close(subscription, self.MAY)
        fees = self._fees(statement)
        self.assertEqual(fees.mapped("amount"), [50.0, 150.0])
        self.assertIn("50.00% of", fees[0].name)
        self.assertEqual(statement.amount_untaxed, 200.0)

    def test_downgrade_and_seat_change(self):
        subscription = self.subscribe(self.pro, seats=2, start=self.APRIL)
        subscription._apply_change("plan_changed", self.MID_APRIL, plan=self.basic, seats=4)
        (statement,) = self.close(subscription, self.MAY)
        # 2 × 300 × 1/2 + 4 × 100 × 1/2
        self.assertEqual(self._fees(statement).mapped("amount"), [300.0, 200.0])

    def test_cancel_mid_period_bills_until_cancellation_and_nothing_after(self):
        subscription = self.subscribe(self.basic, seats=1, start=self.APRIL)
        subscription._apply_change("cancelled", self.MID_APRIL)
        statements = self.close(subscription, "2026-07-01 00:00:01")
        self.assertEqual(len(statements), 1, "no statement after the cancelled period")
        self.assertEqual(self._fees(statements[0]).mapped("amount"), [50.0])

    def test_suspension_is_not_billed(self):
        subscription = self.subscribe(self.basic, seats=1, start=self.APRIL)
        subscription._apply_change("suspended", self.MID_APRIL)
        (statement,) = self.close(subscription, self.MAY)
        self.assertEqual(self._fees(statement).mapped("amount"), [50.0])

    def test_trial_is_free_until_activation(self):
        subscription = self.subscribe(self.basic, seats=1, start=self.APRIL, state="trial")
        self.assertEqual(subscription.mrr, 0.0)
        subscription._apply_change("activated", self.MID_APRIL)
        self.assertEqual(subscription.mrr, 100.0)
        (statement,) = self.close(subscription, self.MAY)
        self.assertEqual(self._fees(statement).mapped("amount"), [50.0])

    def test_in_advance_bills_next_period_and_adjusts_the_closed_one(self):
        plan = self._plan("adv", [], fee=100.0, timing="in_advance")
        subscription = self.subscribe(plan, seats=1, start=self.APRIL)
        (april,) = self.close(subscription, self.MAY)
        self.assertEqual(
            april.line_ids.mapped("kind"), ["fee_adjustment", "fee"], april.line_ids.mapped("name")
        )
        self.assertEqual(april.amount_untaxed, 200.0)  # April (not billed ahead) + May ahead
        subscription._apply_change("seats_changed", "2026-05-16 12:00:00", seats=3)
        (may,) = self.close(subscription, "2026-06-01 00:00:01")
        adjustment = may.line_ids.filtered(lambda line: line.kind == "fee_adjustment")
        # May owed: 100 × 15.5/31 + 300 × 15.5/31 = 200; 100 was billed ahead.
        self.assertEqual(adjustment.amount, 100.0)
        self.assertEqual(self._fees(may).mapped("amount"), [300.0])  # June ahead, 3 seats
