import hashlib
from datetime import date, datetime

from odoo.tests import tagged

from ..utils import event_store
from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestEventCompaction(BillingCase):
    """Old invoiced usage is compacted into summaries; totals and reconciliation hold."""

    def setUp(self):
        super().setUp()
        self.env.flush_all()
        event_store.ensure_partitions(self.env.cr, date(2026, 1, 1), date(2026, 2, 1))
        self.plan = self._plan("flat", [{"metric_id": self.users.id, "unit_price": 2.0}])
        self.subscription = self.subscribe(self.plan)
        self.events = (
            self.usage(self.users, 1, user_id="a")
            | self.usage(self.users, 1, user_id="b")
            | self.usage(self.users, 1, user_id="a")
        )
        (self.january,) = self.close(self.subscription)
        self.january.action_approve()
        self.january.invoice_id.action_post()
        self.cutoff = datetime(2026, 3, 1)

    def _reconciliation(self):
        return self.env["usage.reconciliation"].search([("statement_id", "=", self.january.id)])

    def _digest(self, events):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT concat_ws('|', event_id, quantity::text, occurred_at::text, properties::text)"
            " FROM usage_event_data WHERE id = ANY(%s) ORDER BY id",
            [events.ids],
        )
        text = "\n".join(row[0] for row in self.env.cr.fetchall())
        return hashlib.sha256(text.encode()).hexdigest()

    def test_preview_then_compaction_keeps_totals_and_reconciliation(self):
        compaction = self.env["usage.event.compaction"]
        preview = compaction._preview(self.cutoff)
        self.assertEqual(preview, [{"month": date(2026, 1, 1), "lines": 1, "events": 3}])
        self.assertTrue(self.events.exists(), "a preview changes nothing")
        before = self._reconciliation().read(["events_received", "event_quantity"])
        digest = self._digest(self.events)
        summary = compaction._compact(self.cutoff)
        self.assertRecordValues(
            summary, [{"event_count": 3, "quantity": 2.0, "content_hash": digest}]
        )
        self.assertFalse(self.events.exists(), "the raw events are gone")
        row = self._reconciliation()
        self.assertEqual(row.read(["events_received", "event_quantity"]), before)
        self.assertEqual((row.quantity_variance, row.amount_variance), (0.0, 0.0))
        self.assertEqual(self.january.amount_untaxed, 4.0)
        self.assertEqual(compaction._preview(self.cutoff), [], "compacted once")
        partitions = [name for name, _bounds in event_store.partitions(self.env.cr)]
        self.assertNotIn("usage_event_data_2026_01", partitions, "the emptied month is dropped")

    def test_only_invoiced_old_periods_are_compacted(self):
        compaction = self.env["usage.event.compaction"]
        self.assertEqual(compaction._preview(datetime(2026, 1, 15)), [], "not ended by then")
        self.january.invoice_id.button_draft()
        self.assertEqual(compaction._preview(self.cutoff), [], "its invoice is not posted")

    def test_old_event_ids_stay_duplicates_and_late_usage_waits_in_quarantine(self):
        self.env["usage.event.compaction"]._compact(self.cutoff)
        key = self.env["usage.api.key"].create(
            {"name": "k", "key_id": "compact-key", "company_id": self.company.id}
        )
        late = {
            "event_id": "late-after-compaction",
            "tenant": "t1",
            "metric": "users",
            "quantity": 1,
            "timestamp": "2026-01-20T00:00:00Z",
            "properties": {"user_id": "c"},
        }
        results, _counts = self.env["usage.event"]._ingest_batch(key, [late], "r")
        self.assertEqual(results[0]["error"]["code"], "period_compacted")
        self.env.cr.execute(
            "SELECT count(*) FROM usage_event_key WHERE company_id = %s", [self.company.id]
        )
        self.assertGreaterEqual(self.env.cr.fetchone()[0], 4, "every event id is kept")

    def test_wizard_shows_the_dry_run_and_compacts(self):
        wizard = self.env["usage.event.compaction.wizard"].create({"months": 1})
        self.assertEqual((wizard.line_count, wizard.event_count), (1, 3))
        self.assertIn("January 2026", wizard.preview)
        action = wizard.action_compact()
        compacted = self.env["usage.event.compaction"].search(action["domain"])
        self.assertEqual(compacted.event_count, 3)
