import psycopg2

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingStatements(BillingCase):
    def setUp(self):
        super().setUp()
        self.plan = self._plan(
            "std",
            [{"metric_id": self.calls.id, "unit_price": 0.5}],
            fee=10.0,
        )
        self.product_calls_tax = self.company_data["default_tax_sale"]
        self.calls.product_id.taxes_id = self.product_calls_tax
        self.subscription = self.subscribe(self.plan, seats=2)
        self.events = self.usage(self.calls, 30) | self.usage(self.calls, 10)
        self.outside = self.usage(self.calls, 99, when="2026-02-03 00:00:00")

    def test_statement_waits_for_approval_then_makes_one_draft_invoice(self):
        (statement,) = self.close(self.subscription)
        self.assertEqual(statement.state, "to_approve")
        self.assertFalse(statement.invoice_id)
        self.assertEqual(statement.amount_untaxed, 40.0)  # 2 × 10 + 40 × 0.5
        self.assertEqual(self.events.mapped("billed"), [True, True])
        self.assertEqual(self.events.statement_id, statement)
        self.assertFalse(self.outside.billed, "February usage is not January's")
        billed = self.env["usage.event"].search([("statement_id", "=", statement.id)])
        self.assertEqual(billed, self.events, "the statement's usage, found by the statement")

        statement.action_approve()
        invoice = statement.invoice_id
        self.assertRecordValues(
            invoice,
            [
                {
                    "move_type": "out_invoice",
                    "state": "draft",
                    "partner_id": self.partner_a.id,
                    "currency_id": self.company.currency_id.id,
                    "amount_untaxed": 40.0,
                }
            ],
        )
        usage_line = invoice.invoice_line_ids.filtered(
            lambda aml: aml.product_id == self.calls.product_id
        )
        self.assertEqual((usage_line.quantity, usage_line.price_unit), (40.0, 0.5))
        self.assertEqual(usage_line.tax_ids, self.product_calls_tax, "taxes come from the product")
        self.assertIn("2026-01-01 – 2026-01-31", usage_line.name)
        # Approving again never makes a second invoice.
        with self.assertRaises(UserError):
            statement.action_approve()
        self.assertEqual(
            self.env["account.move"].search_count([("invoice_origin", "=", statement.name)]), 1
        )

    def test_without_approval_the_invoice_is_drafted_at_once(self):
        self.env["ir.config_parameter"].set_param("usage_billing.require_approval", "False")
        (statement,) = self.close(self.subscription)
        self.assertEqual(statement.state, "approved")
        self.assertEqual(statement.invoice_id.amount_untaxed, 40.0)

    def test_rejection_needs_a_reason_releases_usage_and_can_be_recomputed(self):
        (statement,) = self.close(self.subscription)
        with self.assertRaises(UserError):
            statement.action_reject()
        statement.reject_reason = "Usage of the 15th is a test tenant's"
        statement.action_reject()
        self.assertEqual(statement.state, "rejected")
        self.assertEqual(set(self.events.mapped("state")), {"accepted"})
        self.assertFalse(any(self.events.mapped("billed")), "a rejected statement bills nothing")
        self.events[1].with_context(active_test=False).sudo().write({"state": "discarded"})
        statement.action_recompute()
        self.assertEqual(statement.state, "to_approve")
        self.assertEqual(self.line(statement, self.calls).quantity, 30)

    def test_rerunning_never_bills_a_period_twice(self):
        first = self.close(self.subscription)
        again = self.close(self.subscription)
        self.assertEqual(again, [])
        self.assertEqual(len(self.subscription.statement_ids), 1)
        self.assertEqual(first[0].amount_untaxed, 40.0)

    def test_the_database_refuses_a_second_statement_for_a_period(self):
        (statement,) = self.close(self.subscription)
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation):
            with self.env.cr.savepoint():
                statement.copy({"name": "dup"})

    def test_cron_enqueues_one_job_per_batch_of_subscriptions_with_an_identity_key(self):
        other = self.subscribe(self.plan, tenant=self._make_tenant("t2", self.partner_b))
        self.env["ir.config_parameter"].set_param("usage_billing.billing_batch_size", "1")
        with trap_jobs() as trap, freeze_time("2026-02-01 00:00:01"):
            self.env["usage.period.closing"]._enqueue_closing_jobs()
            trap.assert_jobs_count(2)
            self.assertEqual(len({job.identity_key for job in trap.enqueued_jobs}), 2)
            self.env["ir.config_parameter"].set_param("usage_billing.billing_batch_size", "200")
            trap.enqueued_jobs = []
            self.env["usage.period.closing"]._enqueue_closing_jobs()
            trap.assert_jobs_count(1)
            (job,) = trap.enqueued_jobs
            self.assertEqual(job.args[0], self.subscription | other)
            self.assertTrue(job.identity_key.startswith("usage_billing:close:"))
            trap.perform_enqueued_jobs()
        self.assertEqual(len(self.subscription.statement_ids), 1)
        self.assertEqual(len(other.statement_ids), 1)

    def test_a_second_run_does_not_duplicate_a_pending_job(self):
        jobs = self.env["queue.job"].sudo()
        with freeze_time("2026-02-01 00:00:01"):
            self.env["usage.period.closing"]._enqueue_closing_jobs()
            self.env["usage.period.closing"]._enqueue_closing_jobs()
        stored = jobs.search([("method_name", "=", "_close_subscriptions")])
        self.assertEqual(len(stored), 1, "the identity key skips the pending duplicate")
        self.assertEqual(stored.channel, "root.usage_billing")

    def test_reconciliation_shows_zero_variance_from_event_to_invoice(self):
        (statement,) = self.close(self.subscription)
        statement.action_approve()
        self.env.flush_all()
        rows = self.env["usage.reconciliation"].search([("statement_id", "=", statement.id)])
        self.assertRecordValues(
            rows,
            [
                {
                    "metric_id": self.calls.id,
                    "events_received": 2,
                    "billed_quantity": 40.0,
                    "event_quantity": 40.0,
                    "quantity_variance": 0.0,
                    "statement_amount": 20.0,
                    "invoiced_amount": 20.0,
                    "amount_variance": 0.0,
                }
            ],
        )
        # Editing the draft invoice behind the statement's back shows up as variance.
        line = statement.invoice_id.invoice_line_ids.filtered("usage_statement_line_id")
        line = line.filtered(lambda aml: aml.product_id == self.calls.product_id)
        statement.invoice_id.write({"invoice_line_ids": [(1, line.id, {"price_unit": 0.6})]})
        self.env.flush_all()
        rows.invalidate_recordset()
        self.assertEqual(rows.amount_variance, -4.0)

    def test_invoiced_plan_prices_are_frozen_until_a_new_version(self):
        (statement,) = self.close(self.subscription)
        with self.assertRaises(UserError):
            self.plan.fee_unit_price = 12.0
        with self.assertRaises(UserError):  # a tier added to its charge directly, too
            self.env["usage.plan.tier"].create(
                {"charge_id": self.plan.charge_ids.id, "up_to": 10, "unit_price": 0.1}
            )
        action = self.plan.action_new_version()
        new_plan = self.env["usage.plan"].browse(action["res_id"])
        new_plan.fee_unit_price = 12.0
        self.assertEqual(self.subscription.plan_id, new_plan)
        self.assertEqual(statement.plan_id, self.plan)
        self.assertEqual(statement.amount_untaxed, 40.0)
