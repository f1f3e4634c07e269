import json
import os
import unittest

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from .common import UsageApiCase

try:
    from hypothesis import HealthCheck, given, settings

    from . import fuzz
except ImportError:  # pragma: no cover - hypothesis is in requirements-test.txt
    fuzz = None

EXAMPLES = int(os.environ.get("USAGE_FUZZ_EXAMPLES", "150"))
LIFECYCLE_URL = "/usage_billing/v1/subscription_events"


def fuzzing(strategy):
    """``@given`` with the suite's settings: bounded, reproducible (derandomized)."""
    if fuzz is None:
        return unittest.skip("hypothesis is not installed (requirements-test.txt)")
    return lambda test: settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(test))


@tagged("post_install", "-at_install")
class TestIngestFuzz(UsageApiCase):
    """Correctly signed, arbitrary bodies: never a 5xx, always JSON, counts that add up."""

    TENANTS = ["t-one", "t-two", "ghost"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fee = cls.env["product.product"].create(
            {"name": "Seat", "type": "service", "company_id": cls.company.id}
        )
        cls.env["usage.plan"].create(
            {
                "code": "basic",
                "name": "Basic",
                "company_id": cls.company.id,
                "fee_product_id": fee.id,
                "fee_unit_price": 10.0,
                "charge_ids": [Command.create({"metric_id": cls.metric.id, "unit_price": 0.1})],
            }
        )

    def setUp(self):
        super().setUp()
        self.key.rate_limit = 1_000_000  # the fuzzer sends hundreds of requests a minute

    def _stored_ids(self, model):
        table = SQL.identifier(self.env[model]._table)
        self.env.cr.execute(SQL("SELECT event_id FROM %s", table))
        return {row[0] for row in self.env.cr.fetchall()}

    def _check(self, raw, url, model):
        before = self._stored_ids(model)
        response = self.post(raw, url=url)
        self.assertLess(response.status_code, 500, response.text[:500])
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        body = response.json()
        after = self._stored_ids(model)
        if response.status_code != 200:
            self.assertEqual(set(body), {"error"})
            self.assertTrue(body["error"]["code"] and body["error"]["message"])
            self.assertEqual(after, before, "a refused request stores nothing")
            return
        try:
            sent = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))["events"]
        except (ValueError, TypeError):  # decodable only by the server's rules
            sent = body["results"]
        results = body["results"]
        self.assertEqual(len(results), len(sent), "one result per event")
        statuses = [r["status"] for r in results]
        for status, field in (
            ("accepted", "accepted"),
            ("duplicate", "duplicates"),
            ("quarantined", "quarantined"),
            ("rejected", "rejected"),
        ):
            self.assertEqual(body[field], statuses.count(status))
        new = after - before
        self.assertEqual(len(new), body["accepted"] + body["quarantined"], "stored = counted")
        stored_now = {r["event_id"] for r in results if r["status"] in ("accepted", "quarantined")}
        self.assertEqual(new, stored_now)
        for result in results:
            if result["status"] == "rejected":
                self.assertTrue(result["error"]["code"] and result["error"]["message"])
            else:
                self.assertIn(result["event_id"], after)

    @fuzzing(fuzz and fuzz.bodies(fuzz.usage_events(TENANTS, ["api_calls", "active_users"])))
    def test_usage_endpoint_survives_anything_signed(self, raw):
        self._check(raw, "/usage_billing/v1/events", "usage.event")

    @fuzzing(fuzz and fuzz.bodies(fuzz.lifecycle_events(TENANTS, ["basic", "gold"])))
    def test_lifecycle_endpoint_survives_anything_signed(self, raw):
        self._check(raw, LIFECYCLE_URL, "usage.subscription.change")
