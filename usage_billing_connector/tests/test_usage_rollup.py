from datetime import datetime

from odoo.tests import tagged

from ..utils import usage_rollup
from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestUsageRollup(BillingCase):
    """The daily rollups answer exactly what the events answer, for every aggregation."""

    START, END = datetime(2026, 1, 1), datetime(2026, 2, 1)

    def _both(self, start=START, end=END):
        events = self.env["usage.event"]
        raw = {
            metric_id: quantity
            for (_t, _s, metric_id), quantity in events._aggregate(
                [(self.tenant.id, start, end)]
            ).items()
        }
        return raw, events._aggregate_so_far(self.tenant.id, start, end)

    def _distinct_rows(self):
        self.env.cr.execute(
            "SELECT month, value, days FROM usage_rollup_distinct"
            " WHERE tenant_id = %s ORDER BY month, value",
            [self.tenant.id],
        )
        return self.env.cr.fetchall()

    def test_every_aggregation_matches_the_events_before_and_after_merging(self):
        last = self._metric("seats_last", "last")
        count = self._metric("logins", "count")
        for day, quantity in ((3, 5), (3, 7), (10, 2), (31, 1)):
            when = f"2026-01-{day:02d} {8 + quantity:02d}:{day:02d}:00"  # 2 hours on the 3rd
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
        self.assertEqual(self.env.cr.fetchone()[0], 4, "one row per day once merged")
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

    def test_distinct_values_count_only_the_days_of_the_window(self):
        """Values seen on days at the window's edges, across a month's end: counted exactly
        when seen on a day of the window, whatever else the month holds."""
        seen = {
            "u-early": ("2026-01-03 08:00:00",),  # before every window below
            "u-edge": ("2026-01-10 00:00:00", "2026-02-20 00:00:00"),
            "u-end": ("2026-01-31 23:59:59",),
            "u-feb": ("2026-02-01 00:00:00", "2026-02-01 12:00:00", "2026-02-09 23:00:00"),
        }
        for user, moments in seen.items():
            for when in moments:
                self.usage(self.users, 1, when=when, user_id=user)
        windows = {
            (datetime(2026, 1, 10), datetime(2026, 2, 10)): 3,
            (datetime(2026, 1, 11), datetime(2026, 2, 9)): 2,
            (datetime(2026, 1, 11), datetime(2026, 2, 21)): 3,
            (datetime(2026, 2, 10), datetime(2026, 3, 1)): 1,
            (datetime(2026, 1, 4), datetime(2026, 1, 10)): 0,
        }
        for merged in (False, True):
            if merged:
                self.env["usage.event"]._cron_compact_rollups()
                self.assertEqual(
                    [(str(month), value) for month, value, _days in self._distinct_rows()],
                    [
                        ("2026-01-01", "u-early"),
                        ("2026-01-01", "u-edge"),
                        ("2026-01-01", "u-end"),
                        ("2026-02-01", "u-edge"),
                        ("2026-02-01", "u-feb"),
                    ],
                    "one row per month and value once merged",
                )
            for (start, end), expected in windows.items():
                raw, rollup = self._both(start, end)
                self.assertEqual(rollup, raw, f"{start} - {end}")
                self.assertEqual(rollup.get(self.users.id, 0), expected, f"{start} - {end}")

    def test_merging_leaves_merged_rows_alone(self):
        """The hourly merge rewrites only what has more than one row: a merged history
        is read, not rewritten, every hour."""
        self.usage(self.calls, 1, when="2026-01-05 10:00:00")
        self.usage(self.calls, 2, when="2026-01-05 10:30:00")
        self.usage(self.users, 1, when="2026-01-05 10:00:00", user_id="a")
        self.usage(self.users, 1, when="2026-01-06 10:00:00", user_id="a")
        events = self.env["usage.event"]
        events._cron_compact_rollups()

        def places():
            # A row rewritten (deleted and inserted again) moves to a new physical place.
            found = []
            for table in ("usage_rollup", "usage_rollup_distinct"):
                self.env.cr.execute(
                    f"SELECT ctid::text FROM {table} WHERE tenant_id = %s", [self.tenant.id]
                )
                found.append(sorted(row[0] for row in self.env.cr.fetchall()))
            return found

        merged = places()
        # calls: one hour; users: two hours, and one month for its one value.
        self.assertEqual([len(rows) for rows in merged], [3, 1], "merged: one row each")
        events._cron_compact_rollups()
        self.assertEqual(places(), merged)
        self.assertEqual(self._both()[1], {self.calls.id: 3, self.users.id: 1})

    def test_upgrade_folds_the_daily_values_of_19_0_1_2_0(self):
        """The per-day distinct values of the previous version become one row per month,
        and read the same."""
        cr = self.env.cr
        for when, user in (
            ("2026-01-02 01:00:00", "a"),
            ("2026-01-02 02:00:00", "b"),
            ("2026-01-20 01:00:00", "a"),
            ("2026-02-03 01:00:00", "a"),
        ):
            self.usage(self.users, 1, when=when, user_id=user)
        self.env.flush_all()
        before = self._both()
        cr.execute(
            """
            CREATE TABLE usage_rollup_value AS
            SELECT v.tenant_id, v.metric_id, (v.month + d.n - 1)::date AS day, v.value
              FROM usage_rollup_distinct v, generate_series(1, 31) d(n)
             WHERE v.days & (1 << (d.n - 1)) <> 0
            """
        )
        cr.execute("DELETE FROM usage_rollup_distinct")
        self.assertEqual(self._both()[1], {self.users.id: 0}, "the old rows are not read")
        usage_rollup.fold_daily_values(cr)
        self.assertEqual(self._both(), before)
        self.assertEqual(self._both()[1], {self.users.id: 2})
        cr.execute("SELECT to_regclass('usage_rollup_value')")
        self.assertIsNone(cr.fetchone()[0])

    def test_upgrade_turns_the_hourly_rollups_of_19_0_1_2_0_into_daily_ones(self):
        last = self._metric("seats_last", "last")
        for when, quantity in (("2026-01-02 01:00:00", 5), ("2026-01-02 23:00:00", 3)):
            self.usage(self.calls, quantity, when=when)
            self.usage(last, quantity, when=when)
        self.env.flush_all()
        cr = self.env.cr
        # The shape 19.0.1.2.0 left: one row per hour.
        cr.execute("ALTER TABLE usage_rollup RENAME COLUMN day TO hour")
        cr.execute(
            "UPDATE usage_rollup SET hour = hour + interval '1 hour' * (last_quantity - 2)"
            " WHERE tenant_id = %s",
            [self.tenant.id],
        )
        usage_rollup.hours_into_days(cr)
        self.env["usage.event"]._cron_compact_rollups()
        cr.execute(
            "SELECT metric_id, day::text, events FROM usage_rollup WHERE tenant_id = %s",
            [self.tenant.id],
        )
        self.assertEqual(
            sorted(cr.fetchall()),
            sorted(
                [(self.calls.id, "2026-01-02 00:00:00", 2), (last.id, "2026-01-02 00:00:00", 2)]
            ),
        )
        raw, rollup = self._both()
        self.assertEqual(rollup, raw)
        self.assertEqual(rollup, {self.calls.id: 8, last.id: 3})
