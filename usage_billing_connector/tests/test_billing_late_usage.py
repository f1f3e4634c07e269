from odoo.tests import tagged

from .billing_common import BillingCase


class JanuaryBilledCase(BillingCase):
    """January billed and approved: 80 calls (graduated 100 × 1.0, then 0.5) and 10 GB × 2."""

    def setUp(self):
        super().setUp()
        tiers = self.tiers((100, 1.0), (None, 0.5))
        self.plan = self._plan(
            "late",
            [
                {"metric_id": self.calls.id, "pricing_model": "graduated", "tier_ids": tiers},
                {"metric_id": self.storage.id, "unit_price": 2.0},
            ],
        )
        self.subscription = self.subscribe(self.plan)
        self.usage(self.calls, 80)
        self.usage(self.storage, 10)
        (self.january,) = self.close(self.subscription)
        self.january.action_approve()

    def hold_late_calls(self, event_id="late-1"):
        """40 calls for January under the quarantine policy: held, code period_invoiced."""
        self.env["ir.config_parameter"].set_param("usage_billing.late_usage_policy", "quarantine")
        key = self.env["usage.api.key"].create(
            {"name": "k", "key_id": f"key-{event_id}", "company_id": self.company.id}
        )
        raw = {
            "event_id": event_id,
            "tenant": "t1",
            "metric": "calls",
            "quantity": 40,
            "timestamp": "2026-01-20T00:00:00Z",
        }
        results, _counts = self.env["usage.event"]._ingest_batch(key, [raw], "req")
        self.assertEqual(results[0]["error"]["code"], "period_invoiced")


@tagged("post_install", "-at_install")
class TestBillingLateUsage(JanuaryBilledCase):
    def test_late_usage_goes_on_the_next_statement_as_a_true_up_of_its_period(self):
        # Arrives in February for January: 80 + 40 crosses the tier boundary.
        self.usage(self.calls, 40, when="2026-01-20 00:00:00")
        # max-aggregated storage: a lower late value changes nothing, a higher one does.
        self.usage(self.storage, 7, when="2026-01-21 00:00:00")
        self.usage(self.calls, 5, when="2026-02-10 00:00:00")
        (february,) = self.close(self.subscription, "2026-03-01 00:00:01")
        late_calls = self.line(february, self.calls, kind="late_usage")
        # January re-rated: 100 × 1.0 + 20 × 0.5 = 110, 80 already billed.
        self.assertEqual(late_calls.amount, 30.0)
        self.assertIn("late usage for 2026-01-01 – 2026-01-31", late_calls.name)
        late_storage = self.line(february, self.storage, kind="late_usage")
        self.assertEqual(late_storage.amount, 0.0)
        self.assertEqual(self.line(february, self.calls).amount, 5.0)
        self.assertEqual(self.january.amount_untaxed, 100.0, "January keeps its figures")

    def test_late_usage_is_priced_with_the_plan_version_its_period_was_billed_with(self):
        # February is rated with a dearer version 2; January was billed with version 1.
        self.plan.action_new_version()
        version_2 = self.subscription.plan_id
        self.assertNotEqual(version_2, self.plan)
        calls_charge = version_2.charge_ids.filtered(lambda c: c.metric_id == self.calls)
        calls_charge.tier_ids[0].unit_price = 2
        self.usage(self.calls, 40, when="2026-01-20 00:00:00")
        (february,) = self.close(self.subscription, "2026-03-01 00:00:01")
        late_calls = self.line(february, self.calls, kind="late_usage")
        # Version 1: 100 × 1.0 + 20 × 0.5 = 110, 80 billed (version 2 would say 210 - 80).
        self.assertEqual(late_calls.amount, 30.0)
        self.assertEqual(late_calls.plan_id, self.plan)
        self.assertEqual(self.line(february, self.calls).plan_id, version_2)

    def test_late_usage_policy_quarantine(self):
        self.hold_late_calls()
        (february,) = self.close(self.subscription, "2026-03-01 00:00:01")
        self.assertFalse(february.line_ids.filtered(lambda line: line.kind == "late_usage"))

    def test_usage_after_cancellation_is_quarantined(self):
        self.subscription._apply_change("cancelled", "2026-02-10 00:00:00")
        key = self.env["usage.api.key"].create(
            {"name": "k", "key_id": "cancel-key", "company_id": self.company.id}
        )
        events = [
            {
                "event_id": f"c-{day}",
                "tenant": "t1",
                "metric": "calls",
                "quantity": 1,
                "timestamp": f"2026-02-{day:02d}T00:00:00Z",
            }
            for day in (9, 11)
        ]
        results, _counts = self.env["usage.event"]._ingest_batch(key, events, "req")
        self.assertEqual([r["status"] for r in results], ["accepted", "quarantined"])
        self.assertEqual(results[1]["error"]["code"], "no_subscription")
