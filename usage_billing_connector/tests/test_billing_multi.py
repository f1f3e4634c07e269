from odoo.tests import new_test_user, tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingMultiCurrencyCompany(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_currency = cls.setup_other_currency("EUR")
        cls.company_b = cls.setup_other_company(name="Company B")["company"]

    def test_statement_and_invoice_use_the_tenant_currency(self):
        tenant = self._make_tenant("eur-tenant", self.partner_b, currency=self.other_currency)
        plan = self._plan(
            "eur-plan",
            [{"metric_id": self.calls.id, "unit_price": 0.125}],
            fee=10.0,
            currency=self.other_currency,
        )
        subscription = self.subscribe(plan, tenant=tenant)
        self.usage(self.calls, 3, tenant=tenant)
        (statement,) = self.close(subscription)
        self.assertEqual(statement.currency_id, self.other_currency)
        self.assertEqual(self.line(statement, self.calls).amount, 0.38)  # 0.375 rounded once
        statement.action_approve()
        self.assertEqual(statement.invoice_id.currency_id, self.other_currency)
        self.assertEqual(statement.invoice_id.amount_untaxed, 10.38)

    def test_each_company_bills_its_own_tenants_and_users_see_only_theirs(self):
        calls_b = self._metric("calls", "sum", company=self.company_b)
        partner = self.env["res.partner"].create({"name": "B client", "company_id": False})
        tenant_b = self._make_tenant("b1", partner, company=self.company_b)
        plan_b = self._plan(
            "b-plan", [{"metric_id": calls_b.id, "unit_price": 1.0}], company=self.company_b
        )
        sub_b = self.subscribe(plan_b, tenant=tenant_b)
        self.usage(calls_b, 7, tenant=tenant_b)
        (statement_b,) = self.close(sub_b)
        statement_b.action_approve()
        self.assertEqual(statement_b.invoice_id.company_id, self.company_b)
        self.assertEqual(statement_b.invoice_id.amount_untaxed, 7.0)

        user_a = new_test_user(
            self.env,
            "billing_user_a",
            groups="usage_billing_connector.group_usage_billing_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        visible = self.env["usage.statement"].with_user(user_a).search([])
        self.assertNotIn(statement_b, visible)
        self.assertNotIn(sub_b, self.env["usage.subscription"].with_user(user_a).search([]))
