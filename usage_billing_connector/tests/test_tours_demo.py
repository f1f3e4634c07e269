"""Browser flows on the demo data: the screens a first-time user clicks through.

Each tour (``static/tests/tours``) runs in headless Chromium as a user with
only the groups its role has; the test then checks in the database what the
clicks did.  Odoo skips a tour, it does not fail it, without Chromium or the
websocket-client package, and these skip without demo data: ``tools/run_tests.py``
reports such skips as tours NOT run.
"""

import unittest

from odoo.tests import HttpCase, loaded_demo_data, new_test_user, tagged

DEMO = "usage_billing_connector.demo_"
BILLING_ADMIN = "usage_billing_connector.group_usage_billing_manager"
#: Who does what in these tours: only the groups the role has.
ROLES = {
    # Approves statements: their invoices are accounting documents.
    "accountant": f"account.group_account_invoice,{BILLING_ADMIN}",
    # An accountant who reads usage billing, not a billing administrator.
    "collections": "account.group_account_invoice,usage_billing_connector.group_usage_billing_user",
    "manager": BILLING_ADMIN,
    "admin": f"base.group_system,{BILLING_ADMIN}",
}


@tagged("post_install", "-at_install")
class TestDemoTours(HttpCase):
    def setUp(self):
        super().setUp()
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("the tours click through the demo data")
        self.company = self.env.ref("base.main_company")

    def _login(self, role):
        """A user of ``role`` in the demo company; its login."""
        login = f"ubc_tour_{role}"
        new_test_user(
            self.env,
            login=login,
            groups=ROLES[role],
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        return login

    def _statement(self, tenant):
        subscription = self.env.ref(f"{DEMO}subscription_{tenant}")
        return subscription.statement_ids.filtered(lambda s: not s.correction_of_id)

    def test_overview_figures_open_the_records_behind_them(self):
        initech = self._statement("initech")
        self.assertEqual(initech.state, "to_approve")

        self.start_tour(
            "/odoo/usage-billing-overview",
            "usage_billing_overview_drilldown",
            login=self._login("accountant"),
        )

        self.assertEqual(initech.state, "approved")
        self.assertRecordValues(
            initech.invoice_id,
            [{"state": "draft", "currency_id": self.env.ref("base.EUR").id}],
        )

    def test_overview_and_its_figures_open_in_a_new_tab(self):
        # Links and bookmarks open in a new tab, which knows nothing of the app it
        # was in: the URL alone must bring the app's menus, the figure's records
        # and its title. Each start_tour runs in a browser of its own.
        login = self._login("accountant")
        action = self.env.ref("usage_billing_connector.usage_billing_overview_action")
        for url in (
            "/odoo/action-usage_billing_connector.usage_billing_overview_action",
            f"/odoo/action-{action.id}",
        ):
            with self.subTest(url=url):
                self.start_tour(url, "usage_billing_overview_new_tab", login=login)
        self.start_tour(
            f"/odoo/usage-billing-overview/{self.company.id}/usage-billing-overview-to-approve",
            "usage_billing_overview_figure_new_tab",
            login=login,
        )

    def test_accountant_registers_the_payment_that_ends_a_suspension(self):
        statement = self._statement("wayne")
        invoice, subscription = statement.invoice_id, statement.subscription_id
        self.assertEqual(subscription.state, "suspended")

        self.start_tour(
            "/odoo/action-usage_billing_connector.usage_dunning_log_action",
            "usage_billing_dunning_payment",
            login=self._login("collections"),
        )

        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(subscription.state, "active")
        suspension = invoice.usage_dunning_log_ids.filtered(lambda log: log.action == "suspend")
        self.assertTrue(suspension.reactivated)
        self.assertEqual(
            subscription.change_ids.sorted("id").mapped("change_type"),
            ["activated", "suspended", "reactivated"],
        )

    def test_manager_grants_a_promotional_credit(self):
        acme = self.env.ref(f"{DEMO}tenant_acme")
        self.assertFalse(acme.credit_grant_ids)

        self.start_tour(
            "/odoo/action-usage_billing_connector.usage_tenant_action",
            "usage_billing_credit_grant",
            login=self._login("manager"),
        )

        self.assertRecordValues(
            acme.credit_grant_ids,
            [
                {
                    "kind": "granted",
                    "reason": "Apology for the API outage",
                    "amount": 30.0,
                    "remaining": 30.0,
                    "state": "active",
                }
            ],
        )
        self.assertEqual(acme.credit_grant_ids.ledger_ids.mapped("kind"), ["grant"])
        self.env.invalidate_all()
        self.assertEqual(acme.credit_balance, 30.0)

    def test_admin_registers_a_webhook_endpoint_with_its_secret(self):
        endpoints = self.env["usage.webhook.endpoint"]
        self.assertFalse(endpoints.search([("name", "=", "Product platform")]))

        self.start_tour(
            "/odoo/action-usage_billing_connector.usage_webhook_endpoint_action",
            "usage_billing_webhook_endpoint",
            login=self._login("admin"),
        )

        endpoint = endpoints.search([("name", "=", "Product platform")])
        self.assertRecordValues(
            endpoint,
            [
                {
                    "url": "https://platform.example.com/hooks/usage",
                    "event_types": "invoice.paid,subscription.suspended",
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(endpoint._secret(), "whsec-tour-0123456789")
        self.assertNotIn("0123456789", endpoint.sudo().secret_encrypted)

    def test_accountant_approves_the_correction_of_a_disputed_period(self):
        original = self._statement("wayne")
        correction = original.correction_ids
        self.assertEqual(correction.state, "to_approve")

        self.start_tour(
            "/odoo/action-usage_billing_connector.usage_statement_action",
            "usage_billing_correction_approval",
            login=self._login("accountant"),
        )

        self.assertEqual(correction.state, "approved")
        self.assertRecordValues(
            correction.invoice_id,
            [
                {
                    "move_type": "out_refund",
                    "state": "draft",
                    "reversed_entry_id": original.invoice_id.id,
                    "amount_untaxed": 25.0,
                }
            ],
        )
        self.assertEqual(original.invoice_id.amount_untaxed, 200.25, "the invoice is untouched")
