from odoo.tests import new_test_user, tagged

from .common import UsageApiCase


@tagged("post_install", "-at_install")
class TestIngestMultiCompany(UsageApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Other Co"})
        partner_b = cls.env["res.partner"].create({"name": "B customer"})
        cls.tenant_b = cls._make_tenant("b-only", partner_b, company=cls.company_b)
        product_b = cls.env["product.product"].create(
            {"name": "B unit", "type": "service", "company_id": cls.company_b.id}
        )
        cls._make_metric("api_calls", "sum", company=cls.company_b, product=product_b)
        cls.key_b = cls._make_key("key-b", cls.company_b, secret="secret-of-company-b")

    def test_key_of_company_a_cannot_write_company_b_tenants(self):
        _r, body = self.post_events([self.event("mc-1", tenant="b-only")])
        self.assertEqual(body["results"][0]["error"]["code"], "unknown_tenant")
        event = self.stored(event_id="mc-1")
        self.assertEqual(event.company_id, self.company)
        self.assertFalse(event.tenant_id)
        self.assertFalse(self.stored(company=self.company_b))

    def test_event_ids_are_unique_per_company_not_globally(self):
        self.post_events([self.event("shared-id", tenant="t-one")])
        _r, body = self.post_events(
            [self.event("shared-id", tenant="b-only")], key_id="key-b", secret="secret-of-company-b"
        )
        self.assertEqual(body["accepted"], 1)
        self.assertEqual(
            self.stored(event_id="shared-id", company=self.company_b).tenant_id, self.tenant_b
        )

    def test_users_of_company_a_do_not_see_company_b_usage(self):
        self.post_events(
            [self.event("seen-b", tenant="b-only")], key_id="key-b", secret="secret-of-company-b"
        )
        self.post_events([self.event("seen-a")])
        accountant = new_test_user(
            self.env,
            "ub_accountant_a",
            groups="usage_billing_connector.group_usage_billing_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        visible = self.env["usage.event"].with_user(accountant).search([])
        self.assertIn("seen-a", visible.mapped("event_id"))
        self.assertNotIn("seen-b", visible.mapped("event_id"))
        tenants = self.env["usage.tenant"].with_user(accountant).search([])
        self.assertNotIn(self.tenant_b, tenants)
