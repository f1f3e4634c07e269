from datetime import date, datetime

from odoo.tests import tagged

from ..utils import event_store
from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestEventStore(BillingCase):
    """Usage is append-only and partitioned by month; idempotency stays exact."""

    def _row_versions(self, events):
        """The row version (xmin) of each event: it changes whenever the row is rewritten."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, xmin::text FROM usage_event_data WHERE id = ANY(%s) ORDER BY id",
            [events.ids],
        )
        return self.env.cr.fetchall()

    def _partition_of(self, event):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT tableoid::regclass::text FROM usage_event_data WHERE id = %s", [event.id]
        )
        return self.env.cr.fetchone()[0]

    def test_billing_and_rejection_write_no_row_per_event(self):
        plan = self._plan("flat", [{"metric_id": self.calls.id, "unit_price": 1.0}])
        subscription = self.subscribe(plan)
        events = self.usage(self.calls, 3) | self.usage(self.calls, 4)
        before = self._row_versions(events)
        (statement,) = self.close(subscription)
        self.assertEqual(self.line(statement, self.calls).quantity, 7)
        self.assertEqual(events.mapped("billed"), [True, True])
        statement.reject_reason = "wrong"
        statement.action_reject()
        statement.action_recompute()
        self.assertEqual(self._row_versions(events), before, "no event row was rewritten")
        self.assertEqual(events.statement_id, statement)

    def test_events_land_in_their_month_and_far_ones_in_the_default_partition(self):
        self.env.flush_all()
        event_store.ensure_partitions(self.env.cr, date(2026, 1, 1), date(2026, 2, 1))
        january = self.usage(self.calls, 1, when="2026-01-15 00:00:00")
        far = self.usage(self.calls, 1, when="2031-05-01 00:00:00")
        self.assertEqual(self._partition_of(january), "usage_event_data_2026_01")
        self.assertEqual(self._partition_of(far), "usage_event_data_default")
        # Creating that month later moves its rows out of the default partition.
        created = event_store.ensure_partitions(self.env.cr, date(2031, 5, 1), date(2031, 5, 1))
        self.assertEqual(created, ["usage_event_data_2031_05"])
        self.assertEqual(self._partition_of(far), "usage_event_data_2031_05")
        self.assertEqual(far.quantity, 1)

    def test_the_same_event_id_is_stored_once_whatever_its_month(self):
        key = self.env["usage.api.key"].create(
            {"name": "k", "key_id": "store-key", "company_id": self.company.id}
        )
        raw = {
            "event_id": "once",
            "tenant": "t1",
            "metric": "calls",
            "quantity": 1,
            "timestamp": "2026-01-20T00:00:00Z",
        }
        events = self.env["usage.event"]
        first, _counts = events._ingest_batch(key, [raw], "r1")
        moved = {**raw, "timestamp": "2026-07-20T00:00:00Z"}
        second, _counts = events._ingest_batch(key, [moved], "r2")
        again, _counts = events._ingest_batch(key, [raw], "r3")
        self.assertEqual(first[0]["status"], "accepted")
        self.assertEqual(second[0]["error"]["code"], "idempotency_conflict")
        self.assertEqual(again[0]["status"], "duplicate")
        self.assertEqual(events.search_count([("event_id", "=", "once")]), 1)

    def test_monthly_partitions_are_created_ahead_by_the_cron(self):
        cron = self.env.ref("usage_billing_connector.ir_cron_event_partitions")
        cron.method_direct_trigger()
        names = {name for name, _bounds in event_store.partitions(self.env.cr)}
        today = date.today()
        for months in range(4):
            month = event_store.add_months(event_store.month_start(today), months)
            self.assertIn(event_store.partition_name(month), names)
        self.assertIn(event_store.DEFAULT_PARTITION, names)

    def test_the_hourly_cron_summarizes_what_the_brin_index_has_not(self):
        event = self.usage(self.calls, 5)
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT i.indexrelid::regclass::text
              FROM usage_event_data e
              JOIN pg_index i ON i.indrelid = e.tableoid
              JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_am am ON am.oid = c.relam AND am.amname = 'brin'
             WHERE e.id = %s
            """,
            [event.id],
        )
        (index,) = self.env.cr.fetchone()
        # As when autovacuum never got to it: the event's block range unsummarized.
        self.env.cr.execute("SELECT brin_desummarize_range(%s::regclass, 0)", [index])
        self.env.ref("usage_billing_connector.ir_cron_summarize_new_events").method_direct_trigger()
        self.env.cr.execute("SELECT brin_summarize_new_values(%s::regclass)", [index])
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the cron left no range to summarize")

    def test_statement_lines_record_what_they_billed(self):
        plan = self._plan("flat2", [{"metric_id": self.calls.id, "unit_price": 1.0}])
        subscription = self.subscribe(plan)
        self.usage(self.calls, 5)
        (statement,) = self.close(subscription)
        line = self.line(statement, self.calls)
        self.assertFalse(line.snapshot_from)
        self.assertRegex(line.snapshot_to, r"^\d+:\d+:[\d,]*;\d*;\d+$")
        late = self.usage(self.calls, 2, when=datetime(2026, 1, 31, 23, 59, 59))
        self.assertFalse(late.billed, "arrived after the statement: not billed yet")
        (february,) = self.close(subscription, "2026-03-01 00:00:01")
        true_up = self.line(february, self.calls, kind="late_usage")
        self.assertEqual(true_up.snapshot_from, line.snapshot_to)
        self.assertEqual((true_up.quantity, true_up.amount), (7, 2.0))
        self.assertEqual(late.statement_id, february)

    def _rechecks(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT period_start FROM usage_period_recheck WHERE tenant_id = %s ORDER BY 1",
            [self.tenant.id],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def test_late_usage_is_looked_for_in_marked_periods_only(self):
        plan = self._plan("flat3", [{"metric_id": self.calls.id, "unit_price": 1.0}])
        subscription = self.subscribe(plan)
        self.usage(self.calls, 5)
        self.close(subscription)
        january, february = datetime(2026, 1, 1), datetime(2026, 2, 1)
        self.assertEqual(self._rechecks(), [january], "checked once more by the next run")
        self.close(subscription, "2026-03-01 00:00:01")
        self.assertEqual(self._rechecks(), [february], "January checked: nothing late")
        self.usage(self.calls, 2, when="2026-01-15 00:00:00")  # late for January
        self.assertEqual(self._rechecks(), [january, february])
        (march,) = self.close(subscription, "2026-04-01 00:00:01")
        self.assertEqual(self.line(march, self.calls, kind="late_usage").quantity, 7)
