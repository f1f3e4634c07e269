"""Browser flow (Odoo tour in ``static/tests/tours``), run in headless Chromium.

Odoo skips a tour, it does not fail it, when Chromium or the websocket-client
package is missing: ``tools/run_tests.py`` reports such skips as tours NOT run.
"""

from odoo.addons.queue_job.job import Job
from odoo.addons.usage_billing_connector.utils.outbox_outcome import record_dead
from odoo.tests import new_test_user, tagged

from ..core.clients import DeliveryResult
from .common import CrmSyncCase


@tagged("post_install", "-at_install")
class TestTours(CrmSyncCase):
    def test_admin_replays_a_dead_message(self):
        backend = self.make_backend("odoo")
        with self.trap_jobs():  # the first delivery never happens: the CRM is "down"
            self._subscribe(self.tenant)
        message = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
        outage = DeliveryResult(ok=False, error="Tour: the CRM could not be reached.")
        record_dead(message, outage)
        pending_before = self.env["queue.job"].search([("state", "=", "pending")])
        new_test_user(
            self.env,
            login="crm_sync_tour_admin",
            # Reading a message reads its tenant: a usage billing user too.
            groups="base.group_user,crm_sync_connector.group_crm_sync_manager,"
            "usage_billing_connector.group_usage_billing_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )

        self.start_tour(
            "/odoo/action-crm_sync_connector.crm_sync_message_action",
            "crm_sync_replay_dead_message",
            login="crm_sync_tour_admin",
        )

        self.assertRecordValues(message, [{"state": "pending", "attempt_count": 0}])
        # The replay queued a delivery job: run it as the job runner would.
        jobs = (
            self.env["queue.job"].search(
                [("model_name", "=", "crm.sync.message"), ("state", "=", "pending")]
            )
            - pending_before  # the demo's own pending deliveries
        )
        self.assertEqual(len(jobs), 1)
        Job.load(self.env, jobs.uuid).perform()
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertEqual(self.partner.crm_sync_subscription_state, "active")
