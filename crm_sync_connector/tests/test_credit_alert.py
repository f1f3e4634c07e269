from odoo.tests import tagged

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestCreditAlert(CrmSyncCase):
    """Prepaid credit in the account status, and the low-balance alert once per crossing."""

    def _credit(self, amount):
        grant = self.env["usage.credit.grant"].create(
            {"tenant_id": self.tenant.id, "kind": "granted", "reason": "Pilot", "amount": amount}
        )
        grant.action_confirm()
        return grant

    def test_low_balance_alert_once_per_crossing_with_the_mapped_balance(self):
        self.make_backend("webhook")
        self.tenant.credit_low_threshold = 50.0
        with self.trap_jobs() as trap:
            grant = self._credit(100.0)
            grant._move("consume", -60)  # what a statement's approval does
            self.tenant._check_credit_low_balance()
            grant._move("consume", -10)
            self.tenant._check_credit_low_balance()  # still below: no second alert
            self.run_until_settled(trap)
        alerts = self.env["crm.sync.message"].search(
            [("tenant_id", "=", self.tenant.id), ("kind", "=", "alert")]
        )
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts.dedup_key, "credits.low_balance")
        self.assertEqual(alerts.state, "done")
        self.assertEqual(
            {k: alerts.payload[k] for k in ("type", "tenant", "balance", "threshold")},
            {
                "type": "credits.low_balance",
                "tenant": "acme",
                "balance": "40.00",
                "threshold": "50.00",
            },
        )
        (event,) = [
            e["payload"]
            for e in self.crm.webhook_events
            if e["payload"]["event"] == "account.alert"
        ]
        self.assertIn("prepaid credit below 50.00", event["data"]["subject"])
        self.assertIn("credit_balance", event["data"]["account"], "a mapped status field")
        status = self.tenant._crm_account_statuses()[self.tenant.id]
        self.assertEqual(status["credit_balance"], 30)
        self.assertIsNone(status["credit_next_expiry"])
