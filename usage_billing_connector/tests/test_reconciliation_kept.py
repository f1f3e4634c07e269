import unittest
import uuid
from datetime import timedelta
from decimal import Decimal

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, loaded_demo_data, tagged
from odoo.tools import SQL

from .common import committed_subscription
from .test_billing_late_usage import JanuaryBilledCase

FIGURES = ["events_received", "billed_quantity", "event_quantity", "quantity_variance"]


@tagged("post_install", "-at_install")
class TestReconciliationKeptQuantity(JanuaryBilledCase):
    """Reconciliation reads each line's kept quantity, and never one its events no longer say."""

    def setUp(self):
        super().setUp()
        self.keeper = self.env["usage.reconciliation.quantity"]
        self.calls_line = self.line(self.january, self.calls)
        self.late_calls = self.usage(self.calls, 40, when="2026-01-20 00:00:00")
        (self.february,) = self.close(self.subscription, "2026-03-01 00:00:01")
        self.statements = self.january | self.february

    def rows(self):
        self.env.flush_all()
        self.env.invalidate_all()
        return self.env["usage.reconciliation"].search(
            [("statement_id", "in", self.statements.ids)], order="id"
        )

    def kept(self, line):
        self.env.cr.execute(
            "SELECT quantity FROM usage_reconciliation_quantity WHERE statement_line_id = %s",
            [line.id],
        )
        return [quantity for (quantity,) in self.env.cr.fetchall()]

    def keep_all(self):
        while self.keeper._keep_event_quantities():
            pass

    def calls_row(self):
        return self.rows().filtered(lambda row: row.id == self.calls_line.id)

    def late_calls_row(self):
        return self.rows().filtered(
            lambda row: row.kind == "late_usage" and row.metric_id == self.calls
        )

    def sql(self, query, *params):
        self.env.flush_all()
        self.env.cr.execute(query, params)

    def test_keeping_changes_no_figure_and_the_view_reads_what_is_kept(self):
        before = self.rows().read(FIGURES)
        kinds = set(self.rows().mapped("kind"))
        self.assertEqual(kinds, {"usage", "late_usage"}, "January's lines and February's true-up")
        self.keep_all()
        self.assertEqual(self.rows().read(FIGURES), before)
        self.assertEqual(self.kept(self.calls_line), [Decimal(80)])
        late = self.line(self.february, self.calls, kind="late_usage")
        self.assertEqual(self.kept(late), [Decimal(120)], "the whole period as re-rated")
        self.assertEqual(self.keeper._keep_event_quantities(), 0, "each line is kept once")
        # What the line's figures read is the kept row, not the events.
        self.sql(
            "UPDATE usage_reconciliation_quantity SET quantity = 81 WHERE statement_line_id = %s",
            self.calls_line.id,
        )
        self.assertEqual(self.calls_row().event_quantity, 81.0)

    def test_a_billing_run_has_its_lines_kept_without_waiting_for_the_cron(self):
        cron = self.env.ref("usage_billing_connector.ir_cron_keep_reconciliation_quantities")
        triggers = self.env["ir.cron.trigger"].sudo()
        before = triggers.search([("cron_id", "=", cron.id)])
        self.usage(self.calls, 5, when="2026-03-10 00:00:00")
        self.assertTrue(self.close(self.subscription, "2026-04-01 00:00:01"))
        added = triggers.search([("cron_id", "=", cron.id)]) - before
        self.assertTrue(added, "the run asked the keeping cron to run now")

    def test_an_event_changed_after_keeping_shows_as_variance(self):
        self.keep_all()
        (event,) = self.env["usage.event"].search([("statement_line_id", "=", self.calls_line.id)])
        self.sql("UPDATE usage_event_data SET quantity = 85 WHERE id = %s", event.id)
        self.assertEqual(
            self.calls_row().read(["event_quantity", "quantity_variance"])[0],
            {"id": self.calls_line.id, "event_quantity": 85.0, "quantity_variance": -5.0},
        )
        self.keep_all()
        self.assertEqual(self.kept(self.calls_line), [Decimal(85)], "kept again, as it is now")
        self.assertEqual(self.calls_row().quantity_variance, -5.0)

    def test_a_deleted_event_shows_as_variance_even_deleted_from_its_partition(self):
        self.keep_all()
        (event,) = self.env["usage.event"].search([("statement_line_id", "=", self.calls_line.id)])
        self.sql("SELECT tableoid::regclass::text FROM usage_event_data WHERE id = %s", event.id)
        (partition,) = self.env.cr.fetchone()
        self.assertNotEqual(partition, "usage_event_data")
        # A statement on a partition fires only the partition's triggers.
        self.env.cr.execute(
            SQL("DELETE FROM %s WHERE id = %s", SQL.identifier(partition), event.id)
        )
        self.assertEqual(self.calls_row().quantity_variance, 80.0)

    def test_an_event_moved_out_of_the_period_shows_as_variance(self):
        self.keep_all()
        self.sql(
            "UPDATE usage_event_data SET occurred_at = '2026-02-10' WHERE id = %s",
            self.late_calls.id,
        )
        late = self.late_calls_row()
        self.assertEqual((late.event_quantity, late.quantity_variance), (80.0, 40.0))

    def test_a_change_outside_a_lines_window_keeps_its_quantity(self):
        february = self.usage(self.calls, 5, when="2026-02-10 00:00:00")
        self.keep_all()
        self.sql(
            "UPDATE usage_reconciliation_quantity SET quantity = 81 WHERE statement_line_id = %s",
            self.calls_line.id,
        )
        self.sql("UPDATE usage_event_data SET quantity = 6 WHERE id = %s", february.id)
        self.assertEqual(self.calls_row().event_quantity, 81.0, "still read from the kept row")

    def test_a_metrics_new_aggregation_recomputes_its_lines(self):
        self.keep_all()
        self.sql("UPDATE usage_metric SET aggregation = 'max' WHERE id = %s", self.calls.id)
        self.assertEqual(self.late_calls_row().event_quantity, 80.0, "the max of 80 and 40")

    def test_a_line_no_longer_as_kept_is_recomputed(self):
        self.keep_all()
        self.sql(
            "UPDATE usage_statement_line SET period_end = '2026-01-15 12:00:00' WHERE id = %s",
            self.calls_line.id,
        )
        self.assertEqual(self.calls_row().event_quantity, 0.0, "its one event is at the end")

    def test_changes_are_forgotten_once_no_computation_can_miss_them(self):
        self.sql("DELETE FROM usage_event_change")
        # This transaction's own change, seen by what it keeps next; but a
        # transaction running now may have a snapshot that does not see it.
        self.sql(
            "UPDATE usage_event_data SET quantity = quantity WHERE id = %s", self.late_calls.id
        )
        self.keep_all()
        # xid 3 completed before every snapshot there is: only a kept row that
        # did not see it (doctored so below) holds it.
        self.sql(
            """
            INSERT INTO usage_event_change (tenant_id, metric_id, first_at, last_at, xid, seq)
            SELECT %s, unnest(%s), '2026-01-10', '2026-01-10', '3', 0
            """,
            self.tenant.id,
            [self.calls.id, self.storage.id],
        )
        self.sql(
            "UPDATE usage_reconciliation_quantity SET snapshot = '1:1:;;0'"
            " WHERE statement_line_id = %s",
            self.calls_line.id,
        )
        self.keeper._forget_changes()
        self.sql("SELECT metric_id, xid = pg_current_xact_id() FROM usage_event_change ORDER BY id")
        self.assertEqual(
            self.env.cr.fetchall(),
            [(self.calls.id, True), (self.calls.id, False)],
            "this transaction's change, and the one the doctored row missed",
        )

    def _forgotten_once_out_of_the_reconciliation(self, take_out):
        """An old change only the late line's kept row missed, then that line taken out."""
        self.keep_all()
        late = self.line(self.february, self.calls, kind="late_usage")
        self.sql("DELETE FROM usage_event_change")
        self.sql(
            """
            INSERT INTO usage_event_change (tenant_id, metric_id, first_at, last_at, xid, seq)
            VALUES (%s, %s, '2026-01-10', '2026-01-10', '3', 0)
            """,
            self.tenant.id,
            self.calls.id,
        )
        self.sql(
            "UPDATE usage_reconciliation_quantity SET snapshot = '1:1:;;0'"
            " WHERE statement_line_id = %s",
            late.id,
        )
        self.keeper._forget_changes()
        self.sql("SELECT count(*) FROM usage_event_change")
        self.assertEqual(self.env.cr.fetchone()[0], 1, "held by the late line's kept row")
        take_out(late)
        self.keeper._forget_changes()
        self.sql("SELECT count(*) FROM usage_event_change")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "a line no longer read holds nothing")

    def test_a_rejected_statements_lines_hold_no_change(self):
        def reject(_line):
            self.february.reject_reason = "Rated on the wrong plan"
            self.february.action_reject()

        self._forgotten_once_out_of_the_reconciliation(reject)

    def test_a_compacted_lines_hold_no_change(self):
        def compact(line):
            # sudo: compaction records are written by the compaction cron only.
            self.env["usage.event.compaction"].sudo().create(
                {
                    "statement_line_id": line.id,
                    "statement_id": line.statement_id.id,
                    "company_id": self.company.id,
                    "tenant_id": self.tenant.id,
                }
            )

        self._forgotten_once_out_of_the_reconciliation(compact)


@tagged("post_install", "-at_install")
class TestKeptQuantityRace(TransactionCase):
    """A keeper whose snapshot predates a committed change keeps a stale quantity: never read.

    Real, separately committed transactions (Odoo's REPEATABLE READ): the
    keeper takes its snapshot, another transaction changes an event of the
    line and commits, then the keeper keeps the line as its snapshot saw it.
    """

    def test_a_change_the_keepers_snapshot_missed_still_shows(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("uses the committed demo plan")
        with committed_subscription(self.registry) as (_partner, tenant_id, sub_id):
            try:
                self._race(sub_id)
            finally:
                with self.registry.cursor() as cr:
                    cr.execute("DELETE FROM usage_event_change WHERE tenant_id = %s", [tenant_id])
                    cr.execute("DELETE FROM usage_event_key WHERE event_id = %s", [self.event_id])

    def _race(self, sub_id):
        self.event_id = f"kept-{uuid.uuid4()}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            subscription = env["usage.subscription"].browse(sub_id)
            calls = env.ref("usage_billing_connector.demo_metric_api_calls")
            tenant = subscription.tenant_id
            event = (
                env["usage.event"]
                .sudo()
                .create(
                    {
                        "event_id": self.event_id,
                        "company_id": tenant.company_id.id,
                        "tenant_id": tenant.id,
                        "tenant_ref": tenant.external_id,
                        "metric_id": calls.id,
                        "metric_code": calls.code,
                        "quantity": 100,
                        "occurred_at": subscription.billing_anchor + timedelta(days=1),
                        "received_at": fields.Datetime.now(),
                        "state": "accepted",
                    }
                )
            )
            (statement,) = env["usage.period.closing"]._close_subscription(subscription)
            (line,) = statement.line_ids.filtered(lambda line: line.metric_id == calls)
            event_id, line_id = event.id, line.id

        keeper_cr = self.registry.cursor()
        try:
            keeper_cr.execute("SELECT 1")  # the keeper's snapshot, before the change commits
            with self.registry.cursor() as cr:
                cr.execute("UPDATE usage_event_data SET quantity = 130 WHERE id = %s", [event_id])
            keeper = api.Environment(keeper_cr, SUPERUSER_ID, {})["usage.reconciliation.quantity"]
            keeper._keep_event_quantities(limit=100_000)
            keeper_cr.commit()
        finally:
            keeper_cr.close()

        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT quantity FROM usage_reconciliation_quantity WHERE statement_line_id = %s",
                [line_id],
            )
            self.assertEqual(cr.fetchone()[0], 100, "kept as the keeper's snapshot saw it")
            env = api.Environment(cr, SUPERUSER_ID, {})
            row = env["usage.reconciliation"].browse(line_id)
            self.assertEqual((row.event_quantity, row.quantity_variance), (130.0, -30.0))
            env["usage.reconciliation.quantity"]._keep_event_quantities(limit=100_000)
            cr.execute(
                "SELECT quantity FROM usage_reconciliation_quantity WHERE statement_line_id = %s",
                [line_id],
            )
            self.assertEqual(cr.fetchone()[0], 130, "kept again by a later snapshot")
