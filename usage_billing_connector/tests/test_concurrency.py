import unittest
import uuid
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import ConcurrencyError
from odoo.tests import TransactionCase, freeze_time, loaded_demo_data, tagged
from odoo.tools import mute_logger

from ..models.usage_event import INSERT_EVENTS_SQL
from ..models.usage_subscription import LOCK_FOR_BILLING_SQL
from .common import ConcurrentTransactions, committed_subscription


def ingest_params(env, event_id, **values):
    """Parameters of the ingestion INSERT for one event (raw SQL, as the endpoint sends it)."""
    return {
        "company_id": env.ref("base.main_company").id,
        "api_key_id": None,
        "request_id": "race",
        "now": fields.Datetime.now(),
        "uid": env.uid,
        "event_ids": [event_id],
        "tenant_ids": [None],
        "tenant_refs": ["race-tenant"],
        "metric_ids": [None],
        "metric_codes": ["race-metric"],
        "quantities": [1],
        "occurred_ats": [fields.Datetime.now()],
        "properties": ["{}"],
        "states": ["quarantined"],
        "reasons": ["unknown_tenant"],
        "hashes": ["hash"],
        **values,
    }


@tagged("post_install", "-at_install")
class TestConcurrentIngestion(ConcurrentTransactions, TransactionCase):
    """Two clients sending one event_id at the same moment store exactly one row.

    Runs the ingestion INSERT on two real, separately committed transactions
    (Odoo's REPEATABLE READ): the second waits on the unique index, then either
    inserts nothing or fails to serialize, which makes Odoo retry the request,
    whose retry then answers "duplicate".
    """

    @mute_logger("odoo.sql_db")  # the serialization failure is logged as a bad query
    def test_one_row_whatever_the_interleaving(self):
        event_id = f"race-{uuid.uuid4()}"
        params = ingest_params(self.env, event_id)
        first_cr, second_cr = self.registry.cursor(), self.registry.cursor()

        def second_client():
            try:
                second_cr.execute(INSERT_EVENTS_SQL, params)
                return second_cr.fetchall()
            finally:
                second_cr.rollback()

        try:
            first_cr.execute(INSERT_EVENTS_SQL, params)
            self.assertEqual(first_cr.fetchall(), [(event_id,)])
            outcome = self.run_while_first_is_open(first_cr, second_client)
            self.assertTrue(
                outcome.get("result") == []
                or isinstance(outcome.get("error"), psycopg2.errors.SerializationFailure),
                outcome,
            )
            with self.registry.cursor() as check_cr:
                check_cr.execute("SELECT count(*) FROM usage_event WHERE event_id = %s", [event_id])
                self.assertEqual(check_cr.fetchone()[0], 1)
        finally:
            first_cr.rollback()
            with self.registry.cursor() as cleanup_cr:
                cleanup_cr.execute("DELETE FROM usage_event WHERE event_id = %s", [event_id])
                cleanup_cr.execute("DELETE FROM usage_event_key WHERE event_id = %s", [event_id])
            first_cr.close()
            second_cr.close()


@tagged("post_install", "-at_install")
class TestConcurrentBillingRuns(ConcurrentTransactions, TransactionCase):
    """Two billing runs of one subscription at the same moment write one statement.

    The first run closes the period on its own transaction; the second starts
    the way every run starts (locking the subscription row: raw SQL, since the
    ORM cannot be used from a second thread while the test server holds the
    registry lock), waits, then fails to serialize once the first commits;
    its job's retry then finds the period closed.
    """

    @mute_logger("odoo.sql_db")
    def test_two_runs_one_statement(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("uses the committed demo plan")
        with committed_subscription(self.registry) as (_partner, _tenant, subscription_id):
            self._two_runs(subscription_id)

    def _two_runs(self, subscription_id):
        first_cr, second_cr = self.registry.cursor(), self.registry.cursor()

        def run(cr):
            env = api.Environment(cr, SUPERUSER_ID, {})
            subscription = env["usage.subscription"].browse(subscription_id)
            return env["usage.period.closing"]._close_subscription(subscription)

        def second_run_starts():
            try:
                second_cr.execute(LOCK_FOR_BILLING_SQL, [[subscription_id]])
            finally:
                second_cr.rollback()

        try:
            second_cr.execute("SELECT 1")  # take the snapshot before the first commits
            self.assertEqual(len(run(first_cr)), 1)
            outcome = self.run_while_first_is_open(first_cr, second_run_starts)
            self.assertIsInstance(outcome.get("error"), psycopg2.errors.SerializationFailure)
            # What the job's retry does: the period is closed, nothing more is written.
            with self.registry.cursor() as retry_cr:
                self.assertEqual(run(retry_cr), [])
                retry_cr.execute(
                    "SELECT count(*) FROM usage_statement WHERE subscription_id = %s",
                    [subscription_id],
                )
                self.assertEqual(retry_cr.fetchone()[0], 1)
        finally:
            first_cr.rollback()
            first_cr.close()
            second_cr.close()


@tagged("post_install", "-at_install")
class TestConcurrentLifecycleDuplicate(TransactionCase):
    """One lifecycle event sent to two workers (or nodes) at once: applied once, no 5xx.

    The second request's snapshot predates the first's commit, so it does not see
    the stored event and its insert hits the unique key: that is a concurrency
    failure that Odoo retries (the retry answers "duplicate"), not an internal error.
    """

    @mute_logger("odoo.sql_db")  # the unique violation is logged as a bad query
    def test_concurrent_duplicate_is_retried(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("uses the committed demo key")
        with committed_subscription(self.registry) as (_partner, tenant_id, _sub):
            self._two_requests(tenant_id)

    def _ingest(self, cr, raw):
        env = api.Environment(cr, SUPERUSER_ID, {})
        key = env.ref("usage_billing_connector.demo_api_key")
        changes = env["usage.subscription.change"].sudo().with_company(key.company_id)
        return changes._ingest_batch(key, [raw], "race")

    def _two_requests(self, tenant_id):
        with self.registry.cursor() as cr:
            cr.execute("SELECT external_id FROM usage_tenant WHERE id = %s", [tenant_id])
            tenant = cr.fetchone()[0]
        raw = {
            "event_id": f"race-{uuid.uuid4()}",
            "tenant": tenant,
            "type": "seats_changed",
            "seats": 4,
            "effective_at": fields.Datetime.now().isoformat() + "Z",
        }
        first_cr, second_cr = self.registry.cursor(), self.registry.cursor()
        try:
            second_cr.execute("SELECT 1")  # the second request's snapshot: before the commit
            results, _counts = self._ingest(first_cr, raw)
            self.assertEqual(results[0]["status"], "accepted")
            first_cr.commit()
            with self.assertRaises(ConcurrencyError):
                self._ingest(second_cr, raw)
            second_cr.rollback()
            with self.registry.cursor() as retry_cr:  # what Odoo's retry of the request does
                results, _counts = self._ingest(retry_cr, raw)
                self.assertEqual(results[0]["status"], "duplicate")
                retry_cr.execute(
                    "SELECT count(*) FROM usage_subscription_change WHERE event_id = %s",
                    [raw["event_id"]],
                )
                self.assertEqual(retry_cr.fetchone()[0], 1)
        finally:
            first_cr.close()
            second_cr.close()


@tagged("post_install", "-at_install")
class TestConcurrentRateCounting(ConcurrentTransactions, TransactionCase):
    """Concurrent requests of one key add up in the rate counter, none fails."""

    def test_second_increment_waits_and_counts(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("uses the committed demo key")
        key = self.env.ref("usage_billing_connector.demo_api_key")
        window = fields.Datetime.to_datetime("2099-01-01 00:00:00")
        counter = self.env["usage.rate.counter"]
        first_cr = self.registry.cursor()
        try:
            first_cr.execute("SELECT 1")  # both requests start before either commits
            first_cr.execute(
                "INSERT INTO usage_rate_counter (api_key_id, window_start, count)"
                " VALUES (%s, %s, 1) ON CONFLICT (api_key_id, window_start)"
                " DO UPDATE SET count = usage_rate_counter.count + 1",
                [key.id, window],
            )
            outcome = self.run_while_first_is_open(first_cr, lambda: counter._hit(key, window))
            self.assertEqual(outcome, {"result": 2})
        finally:
            first_cr.rollback()
            with self.registry.cursor() as cleanup_cr:
                cleanup_cr.execute(
                    "DELETE FROM usage_rate_counter WHERE window_start = %s", [window]
                )
            first_cr.close()

    def test_an_increment_does_not_wait_for_the_disk(self):
        """Its commit is not flushed synchronously (a busy disk made it the slowest
        part of a read API answer), and it never fails to serialize."""
        with self.env["usage.rate.counter"]._counter_cursor() as cr:
            cr.execute("SHOW synchronous_commit")
            self.assertEqual(cr.fetchone()[0], "off")
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "read committed")
        with self.registry.cursor() as cr:  # the next user of the connection: the defaults
            cr.execute("SHOW synchronous_commit")
            self.assertEqual(cr.fetchone()[0], "on")


@tagged("post_install", "-at_install")
class TestUsageCommittedDuringBilling(TransactionCase):
    """Usage committed while a billing run reads is billed once: next time, as a true-up.

    The ingestion transaction inserts before the billing run takes its snapshot
    but commits after it: the run does not see it, and its statement says so
    (the line's snapshot); the next run finds it unseen and trues the period up.
    """

    def test_usage_in_flight_is_billed_by_the_next_run_not_lost_not_twice(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("uses the committed demo plan")
        with committed_subscription(self.registry) as (_partner, _tenant, sub_id):
            self._in_flight(sub_id)

    def _in_flight(self, sub_id):
        ingest_cr, billing_cr = self.registry.cursor(), self.registry.cursor()
        billing = api.Environment(billing_cr, SUPERUSER_ID, {})
        closing = billing["usage.period.closing"]
        sub = billing["usage.subscription"].browse(sub_id)
        period = sub._due_periods(closing._now())[0]
        event_id = f"in-flight-{uuid.uuid4()}"
        params = ingest_params(
            self.env,
            event_id,
            tenant_ids=[sub.tenant_id.id],
            tenant_refs=[sub.tenant_id.external_id],
            metric_ids=[self.env.ref("usage_billing_connector.demo_metric_api_calls").id],
            metric_codes=["api_calls"],
            quantities=[123],
            occurred_ats=[period.start.replace(tzinfo=None)],
            states=["accepted"],
            reasons=[None],
        )
        try:
            ingest_cr.execute(INSERT_EVENTS_SQL, params)  # inserted, not committed yet
            (first,) = closing._close_subscription(sub)
            billing_cr.commit()
            ingest_cr.commit()
            calls = first.line_ids.filtered(lambda line: line.metric_id.code == "api_calls")
            # The next period's run trues the first period up with exactly that usage.
            with freeze_time(sub._period_containing(period.end).end + timedelta(seconds=1)):
                (second,) = closing._close_subscription(sub)
            true_up = second.line_ids.filtered(
                lambda line: line.kind == "late_usage" and line.metric_id.code == "api_calls"
            )
            self.assertEqual(true_up.quantity, calls.quantity + 123, "seen by the true-up only")
            event = billing["usage.event"].search([("event_id", "=", event_id)])
            self.assertEqual(event.statement_id, second, "billed once, by the true-up")
            self.assertEqual(true_up.snapshot_from, calls.snapshot_to)
        finally:
            billing_cr.rollback()
            with self.registry.cursor() as cleanup_cr:
                cleanup_cr.execute("DELETE FROM usage_event_key WHERE event_id = %s", [event_id])
            ingest_cr.close()
            billing_cr.close()
