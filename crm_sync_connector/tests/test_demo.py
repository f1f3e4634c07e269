import unittest

from odoo.tests import TransactionCase, loaded_demo_data, tagged


@tagged("post_install", "-at_install")
class TestCrmDemo(TransactionCase):
    """After a demo install the CRM screens have delivered, dead and alert messages."""

    def test_demo_outbox_and_alerts(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("needs demo data")
        backend = self.env.ref("crm_sync_connector.demo_backend_odoo")
        messages = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
        states = messages.mapped("state")
        self.assertGreaterEqual(states.count("done"), 3, "every tenant delivered")
        self.assertEqual(states.count("dead"), 1)
        alerts = self.env["crm.sync.threshold.alert"].search([("backend_id", "=", backend.id)])
        self.assertTrue(alerts, "acme is beyond its allowances this month")
        acme = self.env.ref("usage_billing_connector.demo_partner_acme")
        self.assertTrue(acme.crm_sync_health_label)
        self.assertEqual(acme.crm_sync_plan, "Growth (monthly)")
        lead = self.env.ref("crm_sync_connector.demo_lead_acme_expansion")
        self.assertTrue(lead.activity_ids, "alerts became activities on the opportunity")
        dead = messages.filtered(lambda m: m.state == "dead")
        dead.action_replay()
        self.assertEqual(dead.state, "pending")
