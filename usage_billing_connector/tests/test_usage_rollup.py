from datetime import datetime

from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestUsageRollup(BillingCase):
    """The hourly rollups answer exactly what the events answer, for every aggregation."""

    START, END = datetime(2026, 1, 1), datetime(2026, 2, 1)

    def _both(self):
        events = self.env["usage.event"]
        raw = {
            metric_id: quantity
            for (_t, _s, metric_id), quantity in events._aggregate(
                [(self.tenant.id, self.START, self.END)]
            ).items()
        }
        return raw, events._aggregate_so_far(self.tenant.id, self.START, self.END)

    def test_every_aggregation_matches_the_events_before_and_after_merging(self):
        last = self._metric("seats_last", "last")
        count = self._metric("logins", "count")
        for day, quantity in ((3, 5), (3, 7), (10, 2), (31, 1)):
            when = f"2026-01-{day:02d} 10:{day:02d}:00"
            self.usage(self.calls, quantity, when=when)
            self.usage(self.storage, quantity * 10, when=when)
            self.usage(last, quantity, when=when)
            self.usage(count, 1, when=when)
            self.usage(self.users, 1, when=when, user_id=f"u{quantity % 3}")
        self.usage(self.calls, 99, when="2026-02-01 00:00:00")  # the next period
        raw, rollup = self._both()
        self.assertEqual(rollup, raw)
        self.assertEqual(
            {m.code: rollup[m.id] for m in (self.calls, self.storage, last, count, self.users)},
            {"calls": 15, "storage": 70, "seats_last": 1, "logins": 4, "users": 2},
        )
        self.env["usage.event"]._cron_compact_rollups()
        self.env.cr.execute(
            "SELECT count(*) FROM usage_rollup WHERE tenant_id = %s AND metric_id = %s",
            [self.tenant.id, self.calls.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 4, "one row per hour once merged")
        self.assertEqual(self._both()[1], raw)

    def test_quarantined_usage_counts_once_released(self):
        key = self.env["usage.api.key"].create(
            {"name": "k", "key_id": "rollup-key", "company_id": self.company.id}
        )
        raw = {
            "event_id": "held",
            "tenant": "t1",
            "metric": "unknown",
            "quantity": 4,
            "timestamp": "2026-01-05T00:00:00Z",
        }
        events = self.env["usage.event"]
        events._ingest_batch(key, [raw], "r")
        self.assertEqual(self._both(), ({}, {}))
        held = events.search([("event_id", "=", "held")])
        self._metric("unknown", "sum")
        held._reprocess()
        raw_usage, rollup = self._both()
        self.assertEqual(rollup, raw_usage)
        self.assertEqual(list(rollup.values()), [4])

    def test_windows_not_on_whole_days_are_read_from_the_events(self):
        self.usage(self.calls, 3, when="2026-01-05 10:30:00")
        self.usage(self.calls, 4, when="2026-01-05 11:30:00")
        usage = self.env["usage.event"]._aggregate_so_far(
            self.tenant.id, datetime(2026, 1, 5, 11), datetime(2026, 1, 6)
        )
        self.assertEqual(usage, {self.calls.id: 4})
