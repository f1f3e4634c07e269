import contextlib
import json
import threading
import time
import uuid
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.service import model as service_model
from odoo.tests import HttpCase
from odoo.tests.common import _super_send
from odoo.tools import SQL

from ..core import signing

EVENTS_URL = "/usage_billing/v1/events"


class LocalServerTimeouts:
    """HttpCase mixin: requests to a fake server on 127.0.0.1 keep the client's timeouts.

    Odoo's test handler raises every timeout under 10 s to 10 s and cannot
    compare a (connect, read) tuple, which would defeat the fake servers' timeout
    faults.  Requests elsewhere still go through Odoo's handler.
    """

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)


class OutboxJobs:
    """Run the queue_job jobs trapped by ``trap_jobs``, retries included (outbox tests)."""

    def run_jobs(self, trap):
        """Perform the trapped jobs; return those that asked to be retried."""
        jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
        retried = []
        for job in jobs:
            try:
                job.perform()
            except RetryableJobError:
                retried.append(job)
        self.env.invalidate_all()
        return retried

    def run_until_settled(self, trap, limit=20):
        """Perform trapped jobs and their retries until none is left."""
        pending = self.run_jobs(trap)
        rounds = 0
        while pending or trap.enqueued_jobs:
            rounds += 1
            self.assertLess(rounds, limit, "jobs keep retrying")
            retried = []
            for job in pending:
                try:
                    job.perform()
                except RetryableJobError:
                    retried.append(job)
            retried += self.run_jobs(trap)
            pending = retried
            self.env.invalidate_all()

    trap_jobs = staticmethod(trap_jobs)


@contextlib.contextmanager
def committed_subscription(registry, months=1):
    """A tenant on the demo Growth plan with its last ``months`` monthly periods due,
    committed (concurrency tests need rows other transactions see), then removed.

    Yields ``(partner id, tenant id, subscription id)``.
    """
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        anchor = fields.Datetime.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        anchor = fields.Datetime.subtract(anchor, months=months)
        partner = env["res.partner"].create({"name": f"Race {uuid.uuid4()}"})
        tenant = env["usage.tenant"].create(
            {"external_id": f"race-{uuid.uuid4()}", "partner_id": partner.id}
        )
        sub = env["usage.subscription"].create(
            {
                "tenant_id": tenant.id,
                "plan_id": env.ref("usage_billing_connector.demo_plan_growth_monthly").id,
                "start_date": anchor,
                "billing_anchor": anchor,
            }
        )
        ids = (partner.id, tenant.id, sub.id)
    try:
        yield ids
    finally:
        with registry.cursor() as cr:
            partner_id, tenant_id, sub_id = ids
            cr.execute("DELETE FROM usage_statement WHERE subscription_id = %s", [sub_id])
            cr.execute("DELETE FROM usage_event WHERE tenant_id = %s", [tenant_id])
            cr.execute("DELETE FROM usage_subscription WHERE id = %s", [sub_id])
            cr.execute("DELETE FROM usage_tenant WHERE id = %s", [tenant_id])
            cr.execute("DELETE FROM res_partner WHERE id = %s", [partner_id])


def fail_to_serialize(cr, table, condition="true"):
    """Rows of ``table`` matching ``condition`` (SQL on ``NEW``) fail to serialize when
    written, at every try: what concurrent writes of the same rows do (this test's
    transaction only)."""
    cr.execute(
        SQL(
            """
            CREATE FUNCTION usage_test_serialization_failure() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF %s THEN
                    RAISE EXCEPTION 'concurrent update' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER usage_test_serialization_failure BEFORE INSERT OR UPDATE ON %s
                FOR EACH ROW EXECUTE FUNCTION usage_test_serialization_failure();
            """,
            SQL(condition),
            SQL.identifier(table),
        )
    )


@contextlib.contextmanager
def without_retry_backoff():
    """Odoo's tries after a serialization failure, without their random waits (up to
    30 s); yields the patched ``random`` of ``odoo.service.model``."""
    with patch.object(service_model, "random") as backoff:
        backoff.uniform.return_value = 0
        yield backoff


class ConcurrentTransactions:
    """Two transactions of one test on real, separately committed cursors.

    The second one runs in a thread so that it can wait on a lock the first
    holds.  Build its environment in the test's thread (``api.Environment``
    looks the registry up under a lock the running test server holds); the ORM
    then works from the thread like from a second worker.
    """

    def run_while_first_is_open(self, first_cr, second, while_waiting=None, wait=0.5, timeout=20):
        """Run ``second()`` in a thread; it must still be waiting after ``wait`` seconds,
        until ``first_cr`` commits (``while_waiting()`` runs just before).  Returns
        ``{"result": ...}`` or ``{"error": exc}``."""
        outcome = {}

        def run():
            try:
                outcome["result"] = second()
            except Exception as exc:  # handed to the test, which asserts it
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(wait)
        self.assertTrue(thread.is_alive(), "the second transaction waits for the first")
        if while_waiting:
            while_waiting()
        first_cr.commit()
        thread.join(timeout)
        self.assertFalse(thread.is_alive(), "the second transaction finished once the first did")
        return outcome

    def assertWaitsOnLock(self, pid, query_part):
        """The backend ``pid`` waits on a lock, in a query containing ``query_part``."""
        with self.registry.cursor() as cr:
            cr.execute("SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = %s", [pid])
            wait_event_type, query = cr.fetchone()
        self.assertEqual(wait_event_type, "Lock", query)
        self.assertIn(query_part, query)


class UsageFixtures:
    """Factories of the usage records every test suite of the two addons needs.

    The class using it provides ``cls.company`` and, for metrics without an
    explicit product, ``cls.product``.
    """

    @classmethod
    def _make_tenant(cls, external_id, partner, company=None, currency=None):
        company = company or cls.company
        return cls.env["usage.tenant"].create(
            {
                "external_id": external_id,
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": (currency or company.currency_id).id,
            }
        )

    @classmethod
    def _make_metric(cls, code, aggregation, prop=None, company=None, product=None):
        return cls.env["usage.metric"].create(
            {
                "code": code,
                "name": code,
                "aggregation": aggregation,
                "unique_property": prop,
                "product_id": (product or cls.product).id,
                "company_id": (company or cls.company).id,
            }
        )


class UsageApiCase(UsageFixtures, HttpCase):
    """A company with two tenants, two metrics and a signed API key."""

    secret = "test-secret-0123456789"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Usage Co"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.product = cls.env["product.product"].create(
            {"name": "Usage unit", "type": "service", "company_id": cls.company.id}
        )
        partner = cls.env["res.partner"].create({"name": "Tenant One Inc"})
        cls.tenant = cls._make_tenant("t-one", partner)
        cls.tenant_two = cls._make_tenant("t-two", cls.env["res.partner"].create({"name": "Two"}))
        cls.metric = cls._make_metric("api_calls", "sum")
        cls.users_metric = cls._make_metric("active_users", "unique_count", "user_id")
        cls.key = cls._make_key("key-test", cls.company)

    @classmethod
    def _make_key(cls, key_id, company, secret=None, **values):
        key = cls.env["usage.api.key"].create(
            {"name": key_id, "key_id": key_id, "company_id": company.id, **values}
        )
        key._set_secret(secret or cls.secret)
        return key

    def event(self, event_id, tenant="t-one", metric="api_calls", quantity=1, **extra):
        return {
            "event_id": event_id,
            "tenant": tenant,
            "metric": metric,
            "quantity": quantity,
            "timestamp": extra.pop("timestamp", "2026-01-15T10:00:00Z"),
            **extra,
        }

    def post(self, body, key_id="key-test", secret=None, timestamp=None, headers=None, url=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": "application/json",
            "X-Usage-Key": key_id,
            "X-Usage-Signature": signing.sign_header(secret or self.secret, timestamp, raw),
            **(headers or {}),
        }
        return self.url_open(url or EVENTS_URL, data=raw, headers=sent, method="POST")

    def get(self, target, key_id="key-test", secret=None, timestamp=None, signed=None):
        """A signed GET of ``target`` (path and query as sent); ``signed``: other bytes to sign."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = signed if signed is not None else f"GET {target}".encode()
        headers = {
            "X-Usage-Key": key_id,
            "X-Usage-Signature": signing.sign_header(secret or self.secret, timestamp, signed),
        }
        return self.url_open(target, headers=headers)

    def post_events(self, events, **kwargs):
        response = self.post({"events": events}, **kwargs)
        return response, response.json()

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        self.assertEqual(response.json()["error"]["code"], code, response.text)

    def stored(self, **domain):
        return self.env["usage.event"].search(
            [("company_id", "=", domain.pop("company", self.company).id)]
            + [(field, "=", value) for field, value in domain.items()]
        )
