import contextlib
import unittest
import uuid
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, loaded_demo_data, tagged
from odoo.tools import mute_logger

from ..core import utc
from .common import ConcurrentTransactions, committed_subscription

#: 60,000 API calls in a period cost 100.00 on the demo Growth plan (10,000 free,
#: then 0.002 each); the tenant holds 150.00 of credit.
CALLS, USAGE_AMOUNT, CREDIT = 60000, 100.0, 150.0


@tagged("post_install", "-at_install")
class TestConcurrentCreditConsumption(ConcurrentTransactions, TransactionCase):
    """Two approvals drawing on one tenant's credit at once spend it once.

    Two statements of the tenant (two billing periods) are approved on two real
    transactions through the ORM, the way two billing jobs or two accountants
    do: each locks the tenant's available credit, takes what it needs and
    drafts its invoice.  The second one waits on the credit's row lock; once the
    first commits, PostgreSQL refuses it (REPEATABLE READ: its snapshot still
    shows the credit untouched), and its retry sees what is left.  So 150.00 of
    credit pays 100.00 + 50.00, never 100.00 twice.
    """

    @mute_logger("odoo.sql_db")  # the serialization failure is logged as a bad query
    def test_two_approvals_consume_a_credit_once(self):
        if not loaded_demo_data(self.env):
            raise unittest.SkipTest("uses the committed demo plan and credit accounts")
        with (
            committed_subscription(self.registry, months=2) as (_partner, tenant_id, sub_id),
            self._committed_statements_and_credit(tenant_id, sub_id) as (grant_id, statements),
        ):
            self._race(grant_id, *statements)

    @contextlib.contextmanager
    def _committed_statements_and_credit(self, tenant_id, sub_id):
        """Two statements of ``sub_id`` to approve, 150.00 of free credit; removed after."""
        event_ids = []
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            sub = env["usage.subscription"].browse(sub_id)
            closing = env["usage.period.closing"]
            metric = env.ref("usage_billing_connector.demo_metric_api_calls")
            for period in sub._due_periods(closing._now()):
                event_ids.append(f"race-{uuid.uuid4()}")
                env["usage.event"].create(
                    {
                        "event_id": event_ids[-1],
                        "company_id": sub.company_id.id,
                        "tenant_id": tenant_id,
                        "tenant_ref": sub.tenant_id.external_id,
                        "metric_id": metric.id,
                        "metric_code": metric.code,
                        "quantity": CALLS,
                        "occurred_at": utc.naive(period.start + timedelta(days=1)),
                        "received_at": fields.Datetime.now(),
                        "state": "accepted",
                    }
                )
            statements = closing._close_subscription(sub)
            self.assertEqual([s.state for s in statements], ["to_approve", "to_approve"])
            grant = env["usage.credit.grant"].create(
                {"tenant_id": tenant_id, "kind": "granted", "reason": "race", "amount": CREDIT}
            )
            grant._move("grant", CREDIT)
            grant.state = "active"
            ids = (grant.id, [statement.id for statement in statements])
        try:
            yield ids
        finally:
            with self.registry.cursor() as cr:
                grant_id, statement_ids = ids
                cr.execute(
                    "SELECT invoice_id FROM usage_statement WHERE id = ANY(%s)", [statement_ids]
                )
                invoice_ids = [row[0] for row in cr.fetchall() if row[0]]
                cr.execute("DELETE FROM usage_credit_ledger WHERE grant_id = %s", [grant_id])
                cr.execute("DELETE FROM usage_statement WHERE id = ANY(%s)", [statement_ids])
                cr.execute("DELETE FROM account_move WHERE id = ANY(%s)", [invoice_ids])
                cr.execute("DELETE FROM usage_credit_grant WHERE id = %s", [grant_id])
                cr.execute("DELETE FROM usage_event_key WHERE event_id = ANY(%s)", [event_ids])

    def _approve(self, env, statement_id):
        statement = env["usage.statement"].browse(statement_id)
        statement.action_approve()
        return statement.credit_applied

    def _race(self, grant_id, first_id, second_id):
        first_cr, second_cr = self.registry.cursor(), self.registry.cursor()
        # Both environments are made here (see ConcurrentTransactions).
        first = api.Environment(first_cr, SUPERUSER_ID, {})
        second = api.Environment(second_cr, SUPERUSER_ID, {})

        def second_approval():
            try:
                return self._approve(second, second_id)
            finally:
                second_cr.rollback()

        try:
            # The second job starts (takes its snapshot) before the first commits.
            second_cr.execute("SELECT pg_backend_pid()")
            second_pid = second_cr.fetchone()[0]
            self.assertEqual(self._approve(first, first_id), USAGE_AMOUNT)
            outcome = self.run_while_first_is_open(
                first_cr,
                second_approval,
                # It waits on the tenant's credit, locked by the first approval.
                lambda: self.assertWaitsOnLock(second_pid, "FROM usage_credit_grant"),
            )
            self.assertIsInstance(
                outcome.get("error"), psycopg2.errors.SerializationFailure, outcome
            )
            # What the job's (or the request's) retry does: it sees what is left.
            with self.registry.cursor() as retry_cr:
                retry = api.Environment(retry_cr, SUPERUSER_ID, {})
                self.assertEqual(self._approve(retry, second_id), CREDIT - USAGE_AMOUNT)
            with self.registry.cursor() as check_cr:
                check = api.Environment(check_cr, SUPERUSER_ID, {})
                grant = check["usage.credit.grant"].browse(grant_id)
                consumed = grant.ledger_ids.filtered(lambda line: line.kind == "consume")
                self.assertEqual(sorted(consumed.mapped("amount")), [-100.0, -50.0])
                self.assertEqual(grant.remaining, 0.0)
                self.assertEqual(grant.remaining, sum(grant.ledger_ids.mapped("amount")))
                invoices = consumed.statement_id.invoice_id
                self.assertEqual(sorted(invoices.mapped("amount_untaxed")), [99.0, 149.0])
        finally:
            first_cr.rollback()
            first_cr.close()
            second_cr.close()
