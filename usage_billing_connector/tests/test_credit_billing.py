import threading
import time
import uuid

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..models.usage_credit_grant import MOVE_SQL
from ..models.usage_statement_credit import LOCK_AVAILABLE_SQL
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


@tagged("post_install", "-at_install")
class TestConcurrentCreditConsumption(TransactionCase):
    """Two billing jobs of one tenant, on two committed transactions, spend a credit once.

    Each runs the SQL of ``usage.statement._consume_credits``: lock the available
    credits, then take 80 of the 100 with the conditional update of ``_move``.  The second
    waits on the row lock; when the first commits it either fails to serialize
    (REPEATABLE READ: the job is retried and then sees 20 left) or takes nothing.
    """

    def _committed_credit(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": f"Race {uuid.uuid4()}"})
            tenant = env["usage.tenant"].create(
                {"external_id": f"race-{uuid.uuid4()}", "partner_id": partner.id}
            )
            grant = env["usage.credit.grant"].create(
                {"tenant_id": tenant.id, "kind": "granted", "reason": "race", "amount": 100}
            )
            grant._move("grant", 100)
            grant.state = "active"
            return partner.id, tenant.id, grant.id

    def _consume(self, cr, tenant_id, grant_id):
        """What ``_consume_credits`` runs: the lock, then ``_move``'s conditional update."""
        cr.execute(LOCK_AVAILABLE_SQL, [tenant_id, "2026-01-01"])
        locked = [row[0] for row in cr.fetchall()]
        if locked != [grant_id]:
            return False
        cr.execute(MOVE_SQL, [-80, grant_id, -80])
        return bool(cr.fetchall())

    @mute_logger("odoo.sql_db")
    def test_one_consumption_whatever_the_interleaving(self):
        partner_id, tenant_id, grant_id = self._committed_credit()
        first_cr, second_cr = self.registry.cursor(), self.registry.cursor()
        outcome = {}

        def second_job():
            try:
                outcome["consumed"] = self._consume(second_cr, tenant_id, grant_id)
            except psycopg2.errors.SerializationFailure:
                outcome["serialization_failure"] = True
            finally:
                second_cr.rollback()

        try:
            # The second transaction starts (takes its snapshot) before the first commits.
            second_cr.execute("SELECT 1")
            self.assertTrue(self._consume(first_cr, tenant_id, grant_id))
            thread = threading.Thread(target=second_job)
            thread.start()
            time.sleep(0.5)
            self.assertTrue(thread.is_alive(), "the second job waits on the credit's row lock")
            first_cr.commit()
            thread.join(10)
            self.assertFalse(thread.is_alive())
            self.assertFalse(outcome.get("consumed"), outcome)
            with self.registry.cursor() as cr:
                cr.execute("SELECT remaining FROM usage_credit_grant WHERE id = %s", [grant_id])
                self.assertEqual(cr.fetchone()[0], 20)
        finally:
            first_cr.close()
            second_cr.close()
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM usage_credit_ledger WHERE grant_id = %s", [grant_id])
                cr.execute("DELETE FROM usage_credit_grant WHERE id = %s", [grant_id])
                cr.execute("DELETE FROM usage_tenant WHERE id = %s", [tenant_id])
                cr.execute("DELETE FROM res_partner WHERE id = %s", [partner_id])
