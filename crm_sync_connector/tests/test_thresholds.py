from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestThresholds(CrmSyncCase):
    def test_thresholds_fire_once_per_period(self):
        backend = self.make_backend("hubspot")
        alerts = self.env["crm.sync.threshold.alert"]
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            self.run_until_settled(trap)
            self.add_usage(self.tenant, 500)
            self.assertEqual(alerts._cron_check_thresholds(), 0)
            self.add_usage(self.tenant, 350)  # 85 %
            self.assertEqual(alerts._cron_check_thresholds(), 1)
            self.assertEqual(alerts._cron_check_thresholds(), 0, "80 % fires once")
            self.add_usage(self.tenant, 200)  # 105 %
            self.assertEqual(alerts._cron_check_thresholds(), 1)
            self.assertEqual(alerts._cron_check_thresholds(), 0, "100 % fires once")
            self.run_until_settled(trap)
        fired = alerts.search([("backend_id", "=", backend.id)])
        self.assertEqual(sorted(fired.mapped("threshold")), [80, 100])
        self.assertEqual(set(fired.mapped("period_start")), {fired[0].period_start})
        messages = fired.message_id
        self.assertEqual(messages.mapped("kind"), ["alert", "alert"])
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(len(self.crm.hubspot_notes), 2)
        company_id = self.crm.hubspot_companies["acme"]["id"]
        self.assertEqual({n["company_ids"][0] for n in self.crm.hubspot_notes}, {company_id})
        self.assertIn(
            "105", self.crm.hubspot_companies["acme"]["properties"]["usage_api_calls_pct"]
        )

    def test_database_refuses_a_second_fire(self):
        backend = self.make_backend("webhook")
        subscription = self._subscribe(self.tenant)
        values = {
            "backend_id": backend.id,
            "company_id": self.company.id,
            "tenant_id": self.tenant.id,
            "metric_id": self.metric.id,
            "period_start": subscription.current_period_start,
            "threshold": 80,
        }
        self.env["crm.sync.threshold.alert"].create(values)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["crm.sync.threshold.alert"].create(values)
            self.env.flush_all()
