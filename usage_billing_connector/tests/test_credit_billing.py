import psycopg2

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .credit_common import CreditCase


@tagged("post_install", "-at_install")
class TestCreditBilling(CreditCase):
    """Commitments, the low-balance notice and the database guards of consumption."""

    def test_commitment_true_up_on_top_of_per_charge_minimums(self):
        product = self._service("Commitment")
        plan = self._plan(
            "commit",
            [
                {"metric_id": self.calls.id, "unit_price": 1.0},
                {"metric_id": self.storage.id, "unit_price": 2.0, "minimum_amount": 50.0},
            ],
        )
        plan.write({"commitment_amount": 300.0, "commitment_product_id": product.id})
        subscription = self.subscribe(plan)
        self.usage(self.calls, 120)
        self.usage(self.storage, 10)  # 20, lifted to the 50 minimum
        (statement,) = self.close(subscription)
        true_up = self.line(statement, kind="commitment")
        self.assertEqual(true_up.amount, 130.0)  # 300 - (120 + 50)
        self.assertEqual(true_up.product_id, product)
        self.assertEqual(statement.amount_untaxed, 300.0)
        invoice = self.approve(statement)
        self.assertEqual(invoice.amount_untaxed, 300.0)
        # A customer's own commitment overrides the plan's; met usage adds no line.
        subscription.commitment_amount = 100.0
        self.usage(self.calls, 200, when="2026-02-10 00:00:00")
        (february,) = self.close(subscription, now="2026-03-01 00:00:01")
        self.assertFalse(february.line_ids.filtered(lambda line: line.kind == "commitment"))

    def test_late_usage_fills_a_trued_up_commitment_before_it_is_charged(self):
        product = self._service("Commitment")
        plan = self._plan("commit-late", [{"metric_id": self.calls.id, "unit_price": 1.0}])
        plan.write({"commitment_amount": 100.0, "commitment_product_id": product.id})
        subscription = self.subscribe(plan)
        self.usage(self.calls, 60)
        (january,) = self.close(subscription)
        self.assertEqual(self.line(january, kind="commitment").amount, 40.0)
        # 30 late calls for January: within the commitment already paid for.
        self.usage(self.calls, 30, when="2026-01-20 00:00:00")
        (february,) = self.close(subscription, now="2026-03-01 00:00:01")
        late = self.line(february, self.calls, kind="late_usage")
        adjustment = february.line_ids.filtered(
            lambda line: line.kind == "commitment" and line.period_start == january.period_start
        )
        self.assertEqual((late.amount, adjustment.amount), (30.0, -30.0))
        self.assertEqual(adjustment.product_id, product)
        # 20 more: January's usage (110) now passes the commitment; 10 is owed on top.
        self.usage(self.calls, 20, when="2026-01-21 00:00:00")
        (march,) = self.close(subscription, now="2026-04-01 00:00:01")
        late = self.line(march, self.calls, kind="late_usage")
        adjustment = march.line_ids.filtered(
            lambda line: line.kind == "commitment" and line.period_start == january.period_start
        )
        self.assertEqual((late.amount, adjustment.amount), (20.0, -10.0))
        january_lines = (january | february | march).line_ids.filtered(
            lambda line: line.period_start == january.period_start
        )
        self.assertEqual(sum(january_lines.mapped("amount")), 110.0)

    def test_credit_pays_the_commitment_true_up(self):
        product = self._service("Commitment")
        self.plan.write({"commitment_amount": 100.0, "commitment_product_id": product.id})
        subscription = self.subscribe(self.plan)
        self.buy(150.0)
        statement, invoice = self.bill_month(subscription, 1, 30)
        self.assertEqual((statement.amount_untaxed, statement.credit_applied), (100.0, 100.0))
        self.assertEqual(invoice.amount_untaxed, 0.0)
        self.assertLedgerMatchesLiability()

    def test_low_balance_notice_once_per_crossing(self):
        endpoint = self.env["usage.webhook.endpoint"].create(
            {"name": "product", "url": "http://127.0.0.1:9/hooks", "secret": "s3cret"}
        )
        self.tenant.credit_low_threshold = 50.0
        subscription = self.subscribe(self.plan)
        self.buy(100.0)
        notes = self.tenant.message_ids
        self.bill_month(subscription, 1, 30)  # 70 left: above
        self.assertFalse(self.tenant.credit_low_notified)
        self.bill_month(subscription, 2, 30)  # 40 left: crossed
        self.assertTrue(self.tenant.credit_low_notified)
        self.bill_month(subscription, 3, 10)  # 30 left: still below, no second notice
        new = self.tenant.message_ids - notes
        self.assertEqual(len(new.filtered(lambda m: "below the threshold" in (m.body or ""))), 1)
        webhooks = self.env["usage.webhook.delivery"].search(
            [("endpoint_id", "=", endpoint.id), ("event_type", "=", "credits.low_balance")]
        )
        self.assertEqual(len(webhooks), 1, "one product webhook per crossing")
        self.buy(100.0)  # topped up: armed again
        self.assertFalse(self.tenant.credit_low_notified)
        payload = self.tenant._credits_low_balance_payload(self.tenant.credit_balance)
        self.assertEqual(
            payload,
            {
                "type": "credits.low_balance",
                "tenant": "t1",
                "currency": self.company.currency_id.name,
                "balance": "130.00",
                "threshold": "50.00",
            },
        )

    def test_a_statement_consumes_a_credit_once(self):
        subscription = self.subscribe(self.plan)
        grant = self.buy(100.0)
        statement, _invoice = self.bill_month(subscription, 1, 30)
        statement._consume_credits()  # a second call changes nothing
        self.assertEqual(grant.remaining, 70.0)
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env["usage.credit.ledger"].sudo().create(
                    {
                        "grant_id": grant.id,
                        "kind": "consume",
                        "amount": -1,
                        "statement_id": statement.id,
                    }
                )

    def test_never_below_zero(self):
        grant = self.buy(10.0)
        with self.assertRaises(UserError):
            grant._move("consume", -10.01)
        with self.assertRaises(psycopg2.errors.CheckViolation), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "UPDATE usage_credit_grant SET remaining = -1 WHERE id = %s", [grant.id]
                )
        self.assertEqual(grant.remaining, 10.0)
