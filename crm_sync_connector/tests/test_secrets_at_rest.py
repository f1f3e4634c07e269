import os
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.addons.usage_billing_connector.utils.secrets_config import _file_section
from odoo.tests import tagged
from odoo.tools import config

from .common import CrmSyncCase

UPSERT = "/crm/v3/objects/companies/batch/upsert"
OTHER_TABLES = ("ir_config_parameter", "mail_message", "mail_tracking_value", "queue_job")


@tagged("post_install", "-at_install")
class TestSecretsAtRest(CrmSyncCase):
    def _text_columns(self):
        self.env.cr.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public'
               AND (table_name LIKE 'crm\\_sync\\_%%' OR table_name = ANY(%s))
               AND data_type IN ('text', 'character varying', 'jsonb')
            """,
            [list(OTHER_TABLES)],
        )
        return self.env.cr.fetchall()

    def assertNowhereInDatabase(self, secret):
        self.env.flush_all()
        columns = self._text_columns()
        tables = {table for table, _column in columns}
        self.assertTrue({"crm_sync_backend", "crm_sync_attempt"} <= tables)
        for table, column in columns:
            self.env.cr.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',
                [f"%{secret}%"],
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0, f"{secret[:6]}… in {table}.{column}")

    def test_no_plaintext_secret_anywhere(self):
        hubspot = self.make_backend("hubspot")
        self.make_backend(
            "salesforce", sf_grant="refresh_token", refresh_token=self.crm.SF_REFRESH_TOKEN
        )
        self.make_backend("webhook")
        self.assertEqual(hubspot.token_hint, "••••" + self.crm.HUBSPOT_TOKEN[-4:])
        self.assertFalse(hubspot.token, "the input field never reads back")
        # An error body that echoes the token must not reach the attempt log.
        self.crm.inject(
            UPSERT,
            "status",
            status=400,
            body={"message": f"bad token {self.crm.HUBSPOT_TOKEN}", "category": "X"},
        )
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            self.run_until_settled(trap)
        messages = self.env["crm.sync.message"].search([("company_id", "=", self.company.id)])
        self.assertEqual(sorted(messages.mapped("state")), ["dead", "done", "done"])
        self.assertTrue(self.crm.sf_issued_tokens)
        secrets = [
            self.crm.HUBSPOT_TOKEN,
            self.crm.SF_CLIENT_SECRET,
            self.crm.SF_REFRESH_TOKEN,
            self.crm.WEBHOOK_SECRET,
            *self.crm.sf_issued_tokens,
        ]
        for secret in secrets:
            self.assertNowhereInDatabase(secret)

    def test_credentials_are_not_readable_by_crm_sync_managers(self):
        backend = self.make_backend("hubspot")
        manager = self.env["res.users"].create(
            {
                "name": "Sync manager",
                "login": "sync_manager_secret",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
                "group_ids": [self.env.ref("crm_sync_connector.group_crm_sync_manager").id],
            }
        )
        as_manager = backend.with_user(manager)
        self.assertNotIn("token_encrypted", as_manager.fields_get())
        as_manager.token = "pat-new-token-1234567890"
        self.assertEqual(backend.token_hint, "••••7890")
        self.assertEqual(backend._credential("token"), "pat-new-token-1234567890")

    def test_rotation_re_encrypts_with_the_newest_key(self):
        backend = self.make_backend("webhook")
        old_key = _file_section(config["config"], "crm_sync")["encryption_keys"]
        new_key = Fernet.generate_key().decode()
        before = backend.sudo().webhook_secret_encrypted
        with patch.dict(os.environ, {"CRM_SYNC_ENCRYPTION_KEYS": f"{new_key},{old_key}"}):
            backend.action_rotate_credentials()
        after = backend.sudo().webhook_secret_encrypted
        self.assertNotEqual(before, after)
        with patch.dict(os.environ, {"CRM_SYNC_ENCRYPTION_KEYS": new_key}):
            self.assertEqual(backend._credential("webhook_secret"), self.crm.WEBHOOK_SECRET)
