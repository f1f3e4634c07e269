from odoo.tests import tagged

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestOdooBackend(CrmSyncCase):
    def test_partner_and_opportunity_updated_and_alert_scheduled(self):
        salesperson = self.env["res.users"].create(
            {
                "name": "Sales rep",
                "login": "crm_sync_rep",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
                "group_ids": [self.env.ref("sales_team.group_sale_salesman").id],
            }
        )
        opportunity = self.env["crm.lead"].create(
            {
                "name": "Acme expansion",
                "type": "opportunity",
                "partner_id": self.partner.id,
                "user_id": salesperson.id,
                "company_id": self.company.id,
            }
        )
        backend = self.make_backend("odoo")
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            self.add_usage(self.tenant, 1000)
            self.env["crm.sync.threshold.alert"]._cron_check_thresholds()
            self.run_until_settled(trap)
        messages = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(self.partner.crm_sync_plan, "Growth")
        self.assertEqual(self.partner.crm_sync_subscription_state, "active")
        self.assertEqual(self.partner.crm_sync_mrr, 200.0)
        self.assertEqual(self.partner.crm_sync_health_label, "good")
        self.assertTrue(self.partner.crm_sync_date)
        self.assertIn("api_calls: 1000", self.partner.crm_sync_usage_summary)
        self.assertEqual(opportunity.crm_sync_health_score, 100)
        self.assertIn("(100.0%)", opportunity.crm_sync_usage_summary)
        activities = opportunity.activity_ids
        self.assertEqual(len(activities), 2)  # 80 % and 100 %
        self.assertEqual(activities.user_id, salesperson)
        self.assertTrue(all("api_calls" in summary for summary in activities.mapped("summary")))
