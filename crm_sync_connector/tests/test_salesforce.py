from odoo.addons.usage_billing_connector.utils.secrets_config import secrets_box
from odoo.tests import tagged

from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestSalesforce(CrmSyncCase):
    def test_token_refreshed_on_401_and_account_upserted_once(self):
        backend = self.make_backend("salesforce")
        with self.trap_jobs() as trap:
            subscription = self._subscribe(self.tenant)
            self.run_until_settled(trap)
        self.assertEqual(self.crm.sf_token_requests, 1)
        self.assertEqual(list(self.crm.sf_accounts), ["acme"])
        cached = secrets_box("crm_sync").decrypt(backend.sudo().access_token_encrypted)
        self.assertIn(cached, self.crm.sf_issued_tokens)

        # The cached token expires: the next delivery gets a new one and succeeds.
        self.crm.inject("/services/data/", "expire_token")
        before = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
        with self.trap_jobs() as trap:
            subscription.action_suspend()
            self.run_until_settled(trap)
        # The suspension sends the account update and an alert (a Task): whichever goes
        # first meets the expired token, refreshes it and is replayed once.
        sent = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)]) - before
        self.assertEqual(sorted(sent.mapped("kind")), ["alert", "update"])
        self.assertEqual(set(sent.mapped("state")), {"done"})
        self.assertEqual(sent.mapped("attempt_count"), [1, 1])
        message = sent.filtered(lambda m: m.kind == "update")
        self.assertEqual(self.crm.sf_token_requests, 2)
        self.assertEqual(list(self.crm.sf_accounts), ["acme"])
        account = self.crm.sf_accounts["acme"]
        self.assertEqual(account["Usage_Subscription_State__c"], "suspended")
        self.assertEqual(message.remote_id, account["Id"])
        statuses = sent.attempt_ids.sorted("id").mapped("status_code")
        self.assertEqual(statuses.count(401), 1, "one expired token, refreshed once")

    def test_refresh_token_grant(self):
        self.make_backend(
            "salesforce",
            sf_grant="refresh_token",
            refresh_token=self.crm.SF_REFRESH_TOKEN,
        )
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            self.run_until_settled(trap)
        token_request = self.crm.requests_to("/services/oauth2/token")[0]
        self.assertIn(b"grant_type=refresh_token", token_request.body)
        self.assertEqual(list(self.crm.sf_accounts), ["acme"])
