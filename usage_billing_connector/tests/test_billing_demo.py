import unittest

from odoo import fields
from odoo.tests import TransactionCase, loaded_demo_data, tagged


@tagged("post_install", "-at_install")
class TestDemoContract(TransactionCase):
    """The documented example: acme's previous month bills 567.00 untaxed."""

    def test_acme_previous_month(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("needs demo data")
        acme = self.env.ref("usage_billing_connector.demo_subscription_acme")
        tenant = acme.tenant_id
        start = acme.billing_anchor
        metrics = {
            code: self.env.ref(f"usage_billing_connector.demo_metric_{code}")
            for code in ("api_calls", "storage_gb", "active_users")
        }
        rows = [("api_calls", 250000, {}), ("storage_gb", 120, {}), ("storage_gb", 60, {})]
        rows += [("active_users", 1, {"user_id": f"u{n % 14}"}) for n in range(30)]
        self.env["usage.event"].create(
            [
                {
                    "event_id": f"demo-{n}",
                    "company_id": tenant.company_id.id,
                    "tenant_id": tenant.id,
                    "tenant_ref": tenant.external_id,
                    "metric_id": metrics[code].id,
                    "metric_code": code,
                    "quantity": quantity,
                    "occurred_at": fields.Datetime.add(start, days=3),
                    "received_at": fields.Datetime.now(),
                    "state": "accepted",
                    "properties": props,
                }
                for n, (code, quantity, props) in enumerate(rows)
            ]
        )
        (statement,) = self.env["usage.period.closing"]._close_subscription(acme)
        self.assertEqual(statement.period_start, start)
        amounts = {line.metric_id.code or "fee": line.amount for line in statement.line_ids}
        self.assertEqual(
            amounts, {"fee": 198.0, "api_calls": 330.0, "storage_gb": 23.0, "active_users": 16.0}
        )
        self.assertEqual(statement.amount_untaxed, 567.0)
        self.assertEqual(statement.state, "to_approve", "demo requires approval")
        statement.action_approve()
        self.assertEqual(statement.invoice_id.amount_untaxed, 567.0)
