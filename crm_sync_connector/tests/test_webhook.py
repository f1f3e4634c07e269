import json

from odoo.tests import tagged

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestWebhook(CrmSyncCase):
    def test_signed_account_update_and_alert(self):
        self.make_backend("webhook")
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            self.add_usage(self.tenant, 900)
            self.env["crm.sync.threshold.alert"]._cron_check_thresholds()
            self.run_until_settled(trap)
        self.assertFalse(self.crm.webhook_rejected)
        events = {e["payload"]["event"]: e["payload"] for e in self.crm.webhook_events}
        self.assertEqual(set(events), {"account.updated", "account.alert"})
        update = events["account.updated"]
        self.assertEqual(update["tenant"], "acme")
        self.assertTrue(update["occurred_at"].endswith("Z"))
        self.assertEqual(update["data"]["plan"], "growth")
        self.assertEqual(update["data"]["health_label"], "good")
        alert = events["account.alert"]
        self.assertEqual(alert["data"]["threshold"], 80)
        self.assertEqual(alert["data"]["metric"], "api_calls")
        self.assertTrue(all(e["idempotency_key"] for e in self.crm.webhook_events))
        json.dumps(events)  # plain JSON
