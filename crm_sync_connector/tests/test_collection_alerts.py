from odoo.tests import tagged

from .common import CrmSyncCase

FAILED = {
    "invoice": {"number": "INV/2026/0007", "amount_residual": "210.00", "currency": "USD"},
    "payment": {"state": "error", "error": "Card declined"},
}


@tagged("post_install", "-at_install")
class TestCollectionAlerts(CrmSyncCase):
    def endpoint(self):
        return self.env["usage.webhook.endpoint"].create(
            {
                "name": "Product",
                "url": "http://127.0.0.1:9/hooks",
                "secret": "whsec_crm_collection_test",
                "company_id": self.company.id,
            }
        )

    def alerts(self, backend):
        return self.env["crm.sync.message"].search(
            [("backend_id", "=", backend.id), ("kind", "=", "alert")], order="id"
        )

    def test_failed_charge_and_suspension_raise_crm_alerts_and_updates(self):
        backend = self.make_backend("hubspot")
        endpoint = self.endpoint()
        with self.trap_jobs() as trap:
            subscription = self._subscribe(self.tenant)
            self.run_until_settled(trap)
            self.tenant._usage_notify("invoice.payment_failed", FAILED)
            subscription.action_suspend()
            self.run_until_settled(trap)
        alerts = self.alerts(backend)
        self.assertEqual(
            [a.payload["type"] for a in alerts],
            ["invoice.payment_failed", "subscription.suspended"],
        )
        self.assertIn("Card declined", alerts[0].payload["body"])
        self.assertIn("INV/2026/0007", alerts[0].payload["subject"])
        self.assertEqual(alerts.mapped("state"), ["done", "done"])
        self.assertEqual(len(self.crm.hubspot_notes), 2)
        # The alert carries the webhook event's id: the same fact, one id everywhere.
        ids = set(endpoint.delivery_ids.mapped("dedup_key"))
        self.assertEqual(set(alerts.mapped("dedup_key")), ids)
        # The account update says what the CRM already models: the suspension.
        self.assertEqual(
            self.crm.hubspot_companies["acme"]["properties"]["usage_subscription_state"],
            "suspended",
        )

    def test_other_events_raise_no_alert(self):
        backend = self.make_backend("hubspot")
        with self.trap_jobs():
            self._subscribe(self.tenant)
            self.tenant._usage_notify("invoice.overdue", {"days_overdue": 2})
        self.assertFalse(self.alerts(backend))

    def test_threshold_crossed_reaches_the_product_once_whatever_the_backends(self):
        self.make_backend("hubspot")
        endpoint = self.endpoint()
        alerts = self.env["crm.sync.threshold.alert"]
        with self.trap_jobs():
            subscription = self._subscribe(self.tenant)
            self.add_usage(self.tenant, 850)  # 85 % of 1,000 included
            self.assertEqual(alerts._cron_check_thresholds(), 1)
            self.make_backend("hubspot")  # a second CRM fires the same threshold again
            self.assertEqual(alerts._cron_check_thresholds(), 1)
        crossed = endpoint.delivery_ids.filtered(
            lambda d: d.event_type == "usage.threshold_crossed"
        )
        self.assertEqual(len(crossed), 1)
        data = crossed.payload["data"]
        self.assertEqual((data["metric"], data["threshold"]), ("api_calls", 80))
        self.assertEqual(data["used"], 850.0)
        start = subscription.current_period_start.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(data["period"]["start"], start)
        self.assertTrue(data["period"]["end"])
