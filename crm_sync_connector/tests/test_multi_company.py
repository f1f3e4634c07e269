from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestMultiCompany(CrmSyncCase):
    def test_company_b_records_are_invisible_to_company_a_users(self):
        backend_a = self.make_backend("webhook")
        company_b = self.env["res.company"].create({"name": "Other Co"})
        env_b = self.env(context=dict(self.env.context, allowed_company_ids=[company_b.id]))
        backend_b = env_b["crm.sync.backend"].create(
            {
                "name": "B webhook",
                "backend_type": "webhook",
                "base_url": self.crm.webhook_url,
                "company_id": company_b.id,
                "webhook_secret": "whsec_company_b_0123456789",
            }
        )
        partner_b = env_b["res.partner"].create({"name": "B customer", "company_id": company_b.id})
        tenant_b = env_b["usage.tenant"].create(
            {"external_id": "b-tenant", "partner_id": partner_b.id, "company_id": company_b.id}
        )
        with self.trap_jobs():
            message_b = tenant_b._crm_sync_notify()
            message_a = self.tenant._crm_sync_notify()
        self.assertEqual(message_b.backend_id, backend_b, "a tenant only syncs to its company")
        self.assertEqual(message_a.backend_id, backend_a)

        user_a = self.env["res.users"].create(
            {
                "name": "A manager",
                "login": "crm_sync_a_manager",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
                "group_ids": [self.env.ref("crm_sync_connector.group_crm_sync_manager").id],
            }
        )
        env_a = self.env(user=user_a, context={"allowed_company_ids": [self.company.id]})
        self.assertEqual(env_a["crm.sync.backend"].search([]), backend_a)
        self.assertEqual(env_a["crm.sync.message"].search([]), message_a)
        self.assertEqual(env_a["crm.sync.field.mapping"].search([]).backend_id, backend_a)
        with self.assertRaises(AccessError):
            env_a["crm.sync.backend"].browse(backend_b.id).read(["name"])
        with self.assertRaises(AccessError):
            env_a["crm.sync.message"].browse(message_b.id).read(["state"])

    def test_plain_users_cannot_see_the_outbox(self):
        user = self.env["res.users"].create(
            {
                "name": "Plain",
                "login": "crm_sync_plain",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
            }
        )
        with self.assertRaises(AccessError):
            self.env["crm.sync.message"].with_user(user).search([])
