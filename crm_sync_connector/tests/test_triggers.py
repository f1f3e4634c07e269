from odoo import Command, fields
from odoo.tests import tagged

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestTriggers(CrmSyncCase):
    def _invoiced_tenant(self, external_id):
        """A tenant of the main company (it has a chart of accounts; the fixture's has none)."""
        main = self.env.ref("base.main_company")
        env = self.env(context=dict(self.env.context, allowed_company_ids=[main.id]))
        partner = env["res.partner"].create({"name": f"{external_id} Co"})
        tenant = env["usage.tenant"].create(
            {"external_id": external_id, "partner_id": partner.id, "company_id": main.id}
        )
        self.make_backend("webhook", company_id=main.id)
        return env, tenant

    def _invoice(self, env, tenant, amount, days_ago=0, due_days_ago=None):
        today = fields.Date.today()
        values = {
            "move_type": "out_invoice",
            "partner_id": tenant.partner_id.id,
            "invoice_date": fields.Date.add(today, days=-days_ago),
            "invoice_line_ids": [
                Command.create({"name": "Platform fee", "quantity": 1, "price_unit": amount})
            ],
        }
        if due_days_ago is not None:
            values["invoice_date_due"] = fields.Date.add(today, days=-due_days_ago)
        return env["account.move"].create(values)

    def test_invoice_posted_and_paid_are_pushed(self):
        env, tenant = self._invoiced_tenant("invoiced")
        with self.trap_jobs() as trap:
            invoice = self._invoice(env, tenant, 120.0)
            invoice.action_post()
            self.run_until_settled(trap)
            env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({})._create_payments()
            self.run_until_settled(trap)
        messages = env["crm.sync.message"].search([("tenant_id", "=", tenant.id)])
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        posted, paid = (e["payload"]["data"] for e in self.crm.webhook_events)
        self.assertEqual(posted["last_invoice_number"], invoice.name)
        self.assertEqual(posted["last_invoice_payment_state"], "not_paid")
        self.assertEqual(posted["last_invoice_amount"], str(invoice.amount_total))
        self.assertIn(paid["last_invoice_payment_state"], ("paid", "in_payment"))

    def test_invoice_becoming_overdue_is_pushed_once(self):
        env, tenant = self._invoiced_tenant("late-payer")
        with self.trap_jobs() as trap:
            invoice = self._invoice(env, tenant, 80.0, days_ago=40, due_days_ago=10)
            invoice.action_post()
            self.run_until_settled(trap)
            self.assertIn(invoice, env["account.move"]._cron_crm_sync_overdue())
            self.run_until_settled(trap)
            self.assertFalse(env["account.move"]._cron_crm_sync_overdue(), "pushed once")
        self.assertTrue(invoice.crm_sync_overdue_notified)
        messages = env["crm.sync.message"].search([("tenant_id", "=", tenant.id)])
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        # The demo's overdue invoices of the same company are pushed too: read this tenant's.
        ours = [e for e in self.crm.webhook_events if e["payload"]["tenant"] == "late-payer"]
        overdue = ours[-1]["payload"]["data"]
        self.assertEqual(overdue["overdue_amount"], str(invoice.amount_residual))

    def test_change_by_a_user_without_crm_sync_rights_is_delivered(self):
        self.make_backend("hubspot")
        billing_manager = self.env["res.users"].create(
            {
                "name": "Billing manager",
                "login": "crm_sync_billing_manager",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
                "group_ids": [
                    self.env.ref("usage_billing_connector.group_usage_billing_manager").id
                ],
            }
        )
        with self.trap_jobs() as trap:
            subscription = self._subscribe(self.tenant)
            self.run_until_settled(trap)
            subscription.with_user(billing_manager).action_suspend()
            self.run_until_settled(trap)
        self.assertFalse(billing_manager.has_group("crm_sync_connector.group_crm_sync_user"))
        properties = self.crm.hubspot_companies["acme"]["properties"]
        self.assertEqual(properties["usage_subscription_state"], "suspended")
