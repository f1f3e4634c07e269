from odoo import Command
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.tests import freeze_time, tagged

from .common import UsageApiCase

URL = "/usage_billing/v1/subscription_events"


@tagged("post_install", "-at_install")
class TestSubscriptionApi(UsageApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fee = cls.env["product.product"].create(
            {"name": "Seat", "type": "service", "company_id": cls.company.id}
        )
        cls.basic, cls.pro = (
            cls.env["usage.plan"].create(
                {
                    "code": code,
                    "name": code,
                    "company_id": cls.company.id,
                    "fee_product_id": fee.id,
                    "fee_unit_price": price,
                    "charge_ids": [Command.create({"metric_id": cls.metric.id, "unit_price": 0.1})],
                }
            )
            for code, price in (("basic", 10.0), ("pro", 30.0))
        )

    def send(self, *events):
        response = self.post({"events": list(events)}, url=URL)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def lifecycle(self, event_id, kind, when, **extra):
        return {
            "event_id": event_id,
            "tenant": "t-one",
            "type": kind,
            "effective_at": when,
            **extra,
        }

    def test_lifecycle_from_activation_to_cancellation(self):
        body = self.send(
            self.lifecycle("s-1", "activated", "2026-03-01T00:00:00Z", plan="basic", seats=2),
            self.lifecycle("s-2", "plan_changed", "2026-03-16T00:00:00Z", plan="pro"),
            self.lifecycle("s-3", "seats_changed", "2026-03-20T00:00:00Z", seats=5),
            self.lifecycle("s-4", "suspended", "2026-03-25T00:00:00Z"),
            self.lifecycle("s-5", "reactivated", "2026-03-26T00:00:00Z"),
            self.lifecycle("s-6", "cancelled", "2026-03-28T00:00:00Z"),
        )
        self.assertEqual(body["accepted"], 6, body)
        subscription = self.env["usage.subscription"].search([("tenant_id", "=", self.tenant.id)])
        self.assertRecordValues(
            subscription, [{"plan_id": self.pro.id, "seats": 5, "state": "cancelled"}]
        )
        self.assertEqual(
            subscription.change_ids.mapped("change_type"),
            ["activated", "plan_changed", "seats_changed", "suspended", "reactivated", "cancelled"],
        )
        self.assertEqual(subscription.billing_anchor.day, 1)

    def test_same_event_twice_is_a_duplicate_and_changed_payload_a_conflict(self):
        activation = self.lifecycle("d-1", "activated", "2026-03-01T00:00:00Z", plan="basic")
        self.send(activation)
        again = self.send(activation)
        self.assertEqual(again["results"][0]["status"], "duplicate")
        changed = self.send({**activation, "plan": "pro"})
        self.assertEqual(changed["results"][0]["error"]["code"], "idempotency_conflict")
        subscriptions = self.env["usage.subscription"].search([("tenant_id", "=", self.tenant.id)])
        self.assertEqual(subscriptions.plan_id, self.basic)

    def test_invalid_events_are_rejected_with_codes(self):
        body = self.send(
            self.lifecycle("i-1", "activated", "2026-03-01T00:00:00Z"),  # no plan
            self.lifecycle("i-2", "upgraded", "2026-03-01T00:00:00Z"),
            self.lifecycle("i-3", "activated", "2026-03-01T00:00:00Z", plan="nope"),
            self.lifecycle("i-4", "suspended", "2026-03-01T00:00:00Z"),  # no subscription
            {
                **self.lifecycle("i-5", "activated", "2026-03-01T00:00:00Z", plan="basic"),
                "tenant": "ghost",
            },
            self.lifecycle("i-6", "seats_changed", "2026-03-01T00:00:00Z", seats=-1),
        )
        codes = [r["error"]["code"] for r in body["results"]]
        self.assertEqual(
            codes,
            [
                "missing_field",
                "invalid_type",
                "unknown_plan",
                "no_subscription",
                "unknown_tenant",
                "invalid_seats",
            ],
        )
        self.assertEqual(body["rejected"], 6)

    def test_lifecycle_api_needs_the_same_signature(self):
        response = self.post(
            {"events": [self.lifecycle("a-1", "activated", "2026-03-01T00:00:00Z", plan="basic")]},
            url=URL,
            secret="wrong",
        )
        self.assertError(response, 401, "invalid_signature")

    def test_billing_cron_enqueues_the_due_subscription_through_its_real_run(self):
        # HttpCase: the cron's own cursor joins the test transaction, so its
        # commits in batches (ir.cron._commit_progress) run for real.
        self.send(self.lifecycle("c-1", "activated", "2026-01-01T00:00:00Z", plan="basic"))
        subscription = self.env["usage.subscription"].search([("tenant_id", "=", self.tenant.id)])
        cron = self.env.ref("usage_billing_connector.ir_cron_billing_run")
        with trap_jobs() as trap, freeze_time("2026-02-01 00:00:01"):
            cron.method_direct_trigger()
            jobs = [job for job in trap.enqueued_jobs if subscription in job.args[0]]
            self.assertEqual(len(jobs), 1)
            self.assertEqual(jobs[0].channel, "root.usage_billing")
            self.assertEqual(jobs[0].model_name, "usage.period.closing")
            self.assertEqual(jobs[0].method_name, "_close_subscriptions")
            # What the job does, on the test's cursor (the cron's one is closed).
            self.env["usage.period.closing"]._close_subscription(subscription)
        self.assertEqual(len(subscription.statement_ids), 1)
        self.assertEqual(subscription.statement_ids.amount_untaxed, 10.0)
