import unittest

from odoo.tests import TransactionCase, loaded_demo_data, tagged


@tagged("post_install", "-at_install")
class TestDemoContract(TransactionCase):
    """The demo fills every screen, and acme's previous month is the documented example."""

    def setUp(self):
        super().setUp()
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("needs demo data")

    def _statement(self, name):
        sub = self.env.ref(f"usage_billing_connector.demo_subscription_{name}")
        statements = sub.statement_ids.filtered(lambda s: not s.correction_of_id)
        self.assertEqual(len(statements), 1, f"{name}: one statement, its previous month")
        self.assertEqual(statements.period_start, sub.billing_anchor)
        return statements

    def test_acme_previous_month_bills_567_once_invoiced_and_paid(self):
        statement = self._statement("acme")
        amounts = {
            line.metric_id.code or "fee": line.amount
            for line in statement.line_ids
            if line.kind in ("fee", "usage")
        }
        self.assertEqual(
            amounts, {"fee": 198.0, "api_calls": 330.0, "storage_gb": 23.0, "active_users": 16.0}
        )
        self.assertEqual(statement.amount_untaxed, 567.0)
        self.assertRecordValues(
            statement.invoice_id,
            [{"amount_untaxed": 567.0, "state": "posted", "payment_state": "paid"}],
        )

    def test_statements_in_every_state_and_a_second_currency(self):
        self.assertEqual(self._statement("globex").state, "approved")
        self.assertEqual(self._statement("globex").invoice_id.state, "draft")
        initech = self._statement("initech")
        self.assertEqual(initech.state, "to_approve")
        self.assertEqual(initech.currency_id, self.env.ref("base.EUR"))

    def test_usage_quarantine_late_usage_and_reconciliation(self):
        events = self.env["usage.event"]
        self.assertGreater(events.search_count([("state", "=", "accepted")]), 2000)
        reasons = set(events.search([("state", "=", "quarantined")]).mapped("quarantine_reason"))
        self.assertEqual(reasons, {"unknown_tenant", "unknown_metric", "future_timestamp"})
        late = events.search([("event_id", "=", "demo-acme-late-0")])
        self.assertEqual((late.state, late.billed), ("accepted", False))
        rows = self.env["usage.reconciliation"].search([])
        self.assertTrue(rows)
        self.assertEqual(set(rows.mapped("quantity_variance")), {0.0})
        self.assertEqual(set(rows.mapped("amount_variance")), {0.0})

    def test_collections_one_invoice_in_dunning_one_tenant_suspended(self):
        umbrella = self._statement("umbrella").invoice_id
        self.assertRecordValues(umbrella, [{"state": "posted", "payment_state": "not_paid"}])
        self.assertEqual(
            sorted((log.action, log.result) for log in umbrella.usage_dunning_log_ids),
            [("overdue", "done"), ("reminder", "done"), ("reminder", "skipped")],
        )
        wayne = self._statement("wayne")
        self.assertIn("suspend", wayne.invoice_id.usage_dunning_log_ids.mapped("action"))
        self.assertEqual(wayne.subscription_id.state, "suspended")
        self.assertEqual(
            wayne.subscription_id.change_ids.mapped("change_type"), ["activated", "suspended"]
        )

    def test_a_disputed_period_has_a_correction_to_approve(self):
        wayne = self._statement("wayne")
        correction = wayne.correction_ids
        self.assertRecordValues(
            correction,
            [
                {
                    "state": "to_approve",
                    "period_start": wayne.period_start,
                    "plan_id": self.env.ref(
                        "usage_billing_connector.demo_plan_growth_wayne_agreed"
                    ).id,
                    # 50,000 calls beyond the free 10,000: 0.0015 agreed, 0.002 billed.
                    "amount_untaxed": -25.0,
                    "invoice_id": False,
                }
            ],
        )
        self.assertIn("dispute", correction.correction_reason)
        self.assertEqual(correction.line_ids.mapped("kind"), ["late_usage"])
        self.assertEqual(
            self.env["usage.statement"].search([("correction_of_id", "!=", False)]),
            correction,
            "the Corrections filter shows it",
        )

    def test_webhook_endpoint_with_delivered_and_dead_deliveries(self):
        endpoint = self.env.ref("usage_billing_connector.demo_webhook_endpoint")
        self.assertTrue(endpoint.url.startswith("http://127.0.0.1:"), "nothing leaves the machine")
        self.assertEqual(endpoint._secret(), "whsec-demo-change-me")
        self.assertNotIn("whsec", endpoint.sudo().secret_encrypted, "stored encrypted")
        self.assertEqual(
            self.env["usage.webhook.endpoint"].search([]), endpoint, "Webhook Endpoints"
        )
        deliveries = self.env["usage.webhook.delivery"].search([])  # Webhook Deliveries
        self.assertEqual(deliveries.endpoint_id, endpoint)
        self.assertEqual(
            sorted((d.event_type, d.tenant_ref, d.state) for d in deliveries),
            [
                ("invoice.overdue", "umbrella", "done"),
                ("invoice.overdue", "wayne", "done"),
                ("invoice.paid", "acme", "done"),
                ("invoice.posted", "acme", "done"),
                ("invoice.posted", "umbrella", "done"),
                ("invoice.posted", "wayne", "done"),
                ("subscription.suspended", "wayne", "dead"),
            ],
        )
        for delivered in deliveries.filtered(lambda d: d.state == "done"):
            self.assertTrue(delivered.sent_date)
            self.assertRecordValues(
                delivered.attempt_ids, [{"method": "POST", "status_code": 200, "error": False}]
            )
        dead = deliveries.filtered(lambda d: d.state == "dead")
        self.assertEqual(dead.attempt_count, endpoint.max_attempts, "its retries ran out")
        self.assertEqual(len(dead.attempt_ids), endpoint.max_attempts)
        self.assertEqual(set(dead.attempt_ids.mapped("status_code")), {0})
        self.assertIn("Connection refused", dead.last_error)
        self.assertEqual((endpoint.pending_count, endpoint.dead_count), (0, 1))

        event_id = dead.payload["id"]
        jobs = self.env["queue.job"].search([("model_name", "=", "usage.webhook.delivery")])
        dead.action_replay()
        self.assertRecordValues(dead, [{"state": "pending", "attempt_count": 0}])
        self.assertEqual(dead.payload["id"], event_id, "the receiver dedupes on it")
        replay_job = (
            self.env["queue.job"].search([("model_name", "=", "usage.webhook.delivery")]) - jobs
        )
        self.assertEqual(len(replay_job), 1, "a delivery job sends it again")
        self.assertEqual(replay_job.records.ids, dead.ids)
        self.assertEqual(replay_job.channel, endpoint._outbox_channel_name())
