from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from .collection_common import SECRET, CollectionCase


@tagged("post_install", "-at_install")
class TestWebhookDelivery(CollectionCase):
    def emit(self, event_type="invoice.overdue"):
        return self.tenant._usage_notify(event_type, {"days_overdue": 3})

    def test_receiver_down_retries_then_delivers_each_id_once(self):
        self.receiver.fail_next(2, status=503)
        with self.trap_jobs() as trap:
            delivery = self.emit()
            event_id = delivery.payload["id"]
            self.run_until_settled(trap)
        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.attempt_count, 3)
        self.assertEqual([status for status, _id in self.receiver.refused], [503, 503])
        self.assertEqual({i for _s, i in self.receiver.refused}, {event_id}, "same id on retry")
        self.assertEqual(list(self.receiver.accepted), [event_id])
        self.assertFalse(self.receiver.duplicates)
        self.assertEqual(len(delivery.attempt_ids), 3)

    def test_dead_after_max_attempts_then_replayed_with_the_same_id(self):
        self.receiver.fail_next(3, status=500)
        with self.trap_jobs() as trap:
            delivery = self.emit()
            self.run_until_settled(trap)
        self.assertEqual(delivery.state, "dead")
        self.assertEqual(self.endpoint.dead_count, 1)
        self.assertFalse(self.receiver.accepted)
        with self.trap_jobs() as trap:
            self.endpoint.action_replay_dead()
            self.run_until_settled(trap)
        self.assertEqual(delivery.state, "done")
        self.assertEqual(list(self.receiver.accepted), [delivery.payload["id"]])

    def test_event_types_filter_and_wire_contract(self):
        only_paid = self.env["usage.webhook.endpoint"].create(
            {
                "name": "Paid only",
                "url": self.receiver.url,
                "secret": SECRET,
                "event_types": "invoice.paid",
                "company_id": self.company.id,
            }
        )
        with self.trap_jobs() as trap:
            self.emit("invoice.overdue")
            self.run_until_settled(trap)
        self.assertFalse(only_paid.delivery_ids)
        event = self.receiver.of_type("invoice.overdue")[0]
        self.assertEqual(set(event), {"id", "type", "created_at", "tenant", "data"})
        with self.assertRaises(ValidationError):
            only_paid.event_types = "invoice.paid,invoice.refunded"

    def test_secret_is_write_only_and_encrypted(self):
        self.assertFalse(self.endpoint.secret)
        self.assertTrue(self.endpoint.secret_hint.endswith(SECRET[-4:]))
        self.env.cr.execute(
            "SELECT secret_encrypted FROM usage_webhook_endpoint WHERE id = %s",
            [self.endpoint.id],
        )
        stored = self.env.cr.fetchone()[0]
        self.assertNotIn(SECRET, stored)
        self.assertEqual(self.endpoint._secret(), SECRET)

    def test_bad_signature_is_refused_by_the_receiver(self):
        self.endpoint.secret = "another-secret"
        try:
            with self.trap_jobs() as trap:
                delivery = self.emit()
                self.run_until_settled(trap)
        finally:
            self.endpoint.secret = SECRET
        self.assertEqual(delivery.state, "dead", "401 is not retried")
        self.assertEqual(self.receiver.refused, [(401, None)])

    def test_endpoints_deliveries_and_dunning_policies_are_company_owned(self):
        other = self.setup_other_company(name="Other usage company")["company"]
        user = new_test_user(
            self.env,
            login="usage-other-company",
            groups="base.group_user,usage_billing_connector.group_usage_billing_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        with self.trap_jobs():
            self.emit()
        env = self.env(user=user, context={"allowed_company_ids": other.ids})
        self.assertFalse(env["usage.webhook.endpoint"].search([]))
        self.assertFalse(env["usage.webhook.delivery"].search([]))
        steps = env["usage.dunning.step"].search([])
        self.assertEqual(steps.company_id, other, "a new company gets the default policy")
        self.assertEqual([(s.trigger, s.days, s.action) for s in steps][-1], ("due", 14, "suspend"))
