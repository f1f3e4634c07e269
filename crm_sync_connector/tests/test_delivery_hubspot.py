from odoo.addons.queue_job.exception import RetryableJobError
from odoo.tests import tagged

from .common import CrmSyncCase

UPSERT = "/crm/v3/objects/companies/batch/upsert"
NOTES = "/crm/v3/objects/notes"


@tagged("post_install", "-at_install")
class TestHubSpotDelivery(CrmSyncCase):
    def test_one_company_per_tenant_whatever_the_retries(self):
        backend = self.make_backend("hubspot")
        # The write happens but the answer is lost (read timeout), then a 500.
        self.crm.inject(UPSERT, "timeout", seconds=3)
        self.crm.inject(UPSERT, "status", status=500)
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            message = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
            self.assertEqual(len(message), 1)
            trap.assert_jobs_count(1)
            self.run_until_settled(trap)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 3)
        self.assertEqual(len(message.attempt_ids), 3)
        self.assertEqual(sorted(message.attempt_ids.mapped("status_code")), [0, 200, 500])
        self.assertEqual(len(self.crm.requests_to(UPSERT)), 3)
        self.assertEqual(list(self.crm.hubspot_companies), ["acme"])
        company = self.crm.hubspot_companies["acme"]
        self.assertEqual(message.remote_id, company["id"])
        self.assertEqual(company["properties"]["usage_plan"], "growth")
        self.assertEqual(company["properties"]["usage_mrr"], "200.0")
        self.assertEqual(company["properties"]["usage_api_calls_pct"], "0.0")
        self.assertEqual(company["properties"]["usage_health_label"], "good")

        # A later change and a replay of the old message update the same company.
        with self.trap_jobs() as trap:
            self.tenant.invalidate_recordset()
            subscription = self.env["usage.subscription"].search(
                [("tenant_id", "=", self.tenant.id)]
            )
            subscription.action_suspend()
            self.run_until_settled(trap)
        self.assertEqual(list(self.crm.hubspot_companies), ["acme"])
        self.assertEqual(
            self.crm.hubspot_companies["acme"]["properties"]["usage_subscription_state"],
            "suspended",
        )

    def test_pending_updates_coalesce_and_the_newest_state_wins(self):
        backend = self.make_backend("hubspot")
        with self.trap_jobs() as trap:
            subscription = self._subscribe(self.tenant)
            subscription._apply_change("seats_changed", subscription.start_date, seats=5)
            subscription.action_suspend()
            messages = self.env["crm.sync.message"].search(
                [("backend_id", "=", backend.id), ("kind", "=", "update")]
            )
            self.assertEqual(len(messages), 1, "one pending update per tenant and backend")
            self.assertEqual(messages.revision, 3)
            trap.assert_jobs_count(2)  # the update and the suspension's alert
            self.run_until_settled(trap)
        # One upsert for the three coalesced changes; the alert upserts its company too.
        self.assertEqual(len(self.crm.requests_to(UPSERT)), 2)
        self.assertEqual(len(self.crm.requests_to(NOTES)), 1)
        properties = self.crm.hubspot_companies["acme"]["properties"]
        self.assertEqual(properties["usage_subscription_state"], "suspended")
        self.assertEqual(messages.state, "done")

    def test_a_change_after_delivery_makes_a_new_message(self):
        backend = self.make_backend("hubspot")
        with self.trap_jobs() as trap:
            subscription = self._subscribe(self.tenant)
            self.run_until_settled(trap)
            subscription.action_suspend()
            self.run_until_settled(trap)
        # A suspension also raises an alert (collection alerts): the updates are read here.
        messages = self.env["crm.sync.message"].search(
            [("backend_id", "=", backend.id), ("kind", "=", "update")]
        )
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(len(self.crm.hubspot_companies), 1)

    def test_daily_refresh_batches_hubspot_tenants(self):
        backend = self.make_backend("hubspot")
        tenants = self.tenant
        for index in range(4):
            partner = self.env["res.partner"].create({"name": f"Customer {index}"})
            tenants |= self._make_tenant(f"t{index}", partner)
        with self.trap_jobs() as trap:
            for tenant in tenants:
                self._subscribe(tenant)
            self.run_until_settled(trap)
            self.crm.reset()
            backend._cron_full_refresh()
            trap.assert_jobs_count(1)  # 5 tenants, one batch job
            self.run_until_settled(trap)
        self.assertEqual(len(self.crm.requests_to(UPSERT)), 1)
        self.assertEqual(len(self.crm.requests_to(UPSERT)[0].json()["inputs"]), 5)
        self.assertEqual(len(self.crm.hubspot_companies), 5)

    def test_test_connection_button(self):
        backend = self.make_backend("hubspot")
        action = backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        backend.token = "pat-wrong-token-000000000000"
        action = backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertNotIn("pat-wrong-token-000000000000", action["params"]["message"])

    def test_rate_limit_answers_set_the_retry_delay(self):
        self.make_backend("hubspot")
        self.crm.inject(UPSERT, "status", status=429, retry_after=42)
        self.crm.inject(
            UPSERT,
            "status",
            status=429,
            headers={
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            },
        )
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            jobs = trap.enqueued_jobs
            delays = []
            # Not assertRaises: Odoo's rolls back a savepoint, which would also
            # drop the attempts the job logged in its own transaction.
            for _attempt in range(2):
                try:
                    jobs[0].perform()
                except RetryableJobError as exc:
                    delays.append(exc.seconds)
            jobs[0].perform()
        self.env.invalidate_all()
        self.assertEqual(delays, [42, 10])
        message = self.env["crm.sync.message"].search([("tenant_id", "=", self.tenant.id)])
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.mapped("status_code"), [200, 429, 429])
