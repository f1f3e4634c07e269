from odoo.tests import tagged

from .common import CrmSyncCase

UPSERT = "/crm/v3/objects/companies/batch/upsert"


@tagged("post_install", "-at_install")
class TestDeadLetter(CrmSyncCase):
    def test_dead_after_max_attempts_then_replay(self):
        backend = self.make_backend("hubspot", max_attempts=3)
        self.crm.inject(UPSERT, "status", count=10, status=503, retry_after=7)
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            message = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
            retried = self.run_jobs(trap)
            self.assertEqual(len(retried), 1)
            self.assertEqual(message.attempt_count, 1)
            self.assertEqual(message.state, "pending")
            for _attempt in range(2):
                try:
                    retried[0].perform()
                except Exception as exc:
                    self.assertEqual(type(exc).__name__, "RetryableJobError")
                    self.assertEqual(exc.seconds, 7, "Retry-After is honoured")
                self.env.invalidate_all()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 3)
        self.assertIn("503", message.last_error)
        self.assertEqual(len(message.attempt_ids), 3)
        self.assertEqual(backend.dead_count, 1)
        self.assertFalse(self.crm.hubspot_companies)

        self.crm.reset()  # the CRM is back
        with self.trap_jobs() as trap:
            backend.action_replay_dead()
            self.assertEqual(message.state, "pending")
            self.assertEqual(message.attempt_count, 0)
            self.run_until_settled(trap)
        self.assertEqual(message.state, "done")
        self.assertEqual(list(self.crm.hubspot_companies), ["acme"])

    def test_permanent_error_is_dead_at_once_and_replay_of_a_selection(self):
        backend = self.make_backend("hubspot")
        self.crm.inject(UPSERT, "status", status=400)
        with self.trap_jobs() as trap:
            self._subscribe(self.tenant)
            self.assertFalse(self.run_jobs(trap))
        message = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 1)
        with self.trap_jobs() as trap:
            message.action_replay()
            self.run_until_settled(trap)
        self.assertEqual(message.state, "done")

    def test_replay_is_superseded_by_a_newer_pending_update(self):
        backend = self.make_backend("hubspot")
        self.crm.inject(UPSERT, "status", status=400)
        with self.trap_jobs() as trap:
            subscription = self._subscribe(self.tenant)
            self.run_jobs(trap)
            dead = self.env["crm.sync.message"].search([("backend_id", "=", backend.id)])
            subscription.action_suspend()
            dead.action_replay()
            self.run_until_settled(trap)
        self.assertEqual(dead.state, "done")
        self.assertEqual(len(self.crm.hubspot_companies), 1)
        self.assertEqual(
            self.crm.hubspot_companies["acme"]["properties"]["usage_subscription_state"],
            "suspended",
        )
