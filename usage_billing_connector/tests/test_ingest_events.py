from datetime import datetime, timedelta, timezone
from decimal import Decimal

from odoo.tests import tagged

from .common import UsageApiCase


@tagged("post_install", "-at_install")
class TestIngestEvents(UsageApiCase):
    def test_happy_path_stores_exact_quantities_and_answers_in_order(self):
        response, body = self.post_events(
            [
                self.event("e-1", quantity=3),
                self.event("e-2", quantity="0.000001", properties={"region": "eu"}),
                self.event("e-3", quantity=1.5, timestamp="2026-01-15T12:00:00+02:00"),
            ],
            headers={"X-Request-Id": "req-happy-1"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["X-Request-Id"], "req-happy-1")
        self.assertEqual(
            (body["accepted"], body["duplicates"], body["quarantined"], body["rejected"]),
            (3, 0, 0, 0),
        )
        self.assertEqual([r["event_id"] for r in body["results"]], ["e-1", "e-2", "e-3"])
        self.assertNotIn("error", body["results"][0])
        events = self.stored()
        self.assertEqual(len(events), 3)
        self.assertEqual(set(events.mapped("state")), {"accepted"})
        self.assertEqual(set(events.mapped("tenant_id")), {self.tenant})
        e3 = self.stored(event_id="e-3")
        self.assertEqual(e3.occurred_at, datetime(2026, 1, 15, 10, 0))
        self.assertEqual(self.stored(event_id="e-2").properties, {"region": "eu"})
        # The column is NUMERIC: the sum is exact, not a float approximation.
        # (Odoo's driver casts NUMERIC to float, so read it as text.)
        self.env.cr.execute(
            "SELECT sum(quantity)::text FROM usage_event WHERE company_id = %s", [self.company.id]
        )
        self.assertEqual(Decimal(self.env.cr.fetchone()[0]), Decimal("4.500001"))
        log = self.env["usage.ingest.log"].search([("request_id", "=", "req-happy-1")])
        self.assertEqual((log.http_status, log.accepted, log.api_key_id), (200, 3, self.key))

    def test_retry_of_the_same_event_is_a_duplicate_and_adds_no_row(self):
        self.post_events([self.event("dup-1", quantity=10)])
        response, body = self.post_events([self.event("dup-1", quantity="10.0")])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(body["duplicates"], 1)
        self.assertEqual(body["results"][0]["status"], "duplicate")
        self.assertEqual(len(self.stored(event_id="dup-1")), 1)

    def test_same_event_id_with_another_payload_is_an_idempotency_conflict(self):
        self.post_events([self.event("conf-1", quantity=10)])
        _response, body = self.post_events([self.event("conf-1", quantity=11)])
        self.assertEqual(body["rejected"], 1)
        self.assertEqual(body["results"][0]["error"]["code"], "idempotency_conflict")
        self.assertEqual(self.stored(event_id="conf-1").quantity, 10)

    def test_repeats_inside_one_batch(self):
        _response, body = self.post_events(
            [
                self.event("in-1", quantity=1),
                self.event("in-1", quantity=1),
                self.event("in-1", quantity=2),
            ]
        )
        statuses = [r["status"] for r in body["results"]]
        self.assertEqual(statuses, ["accepted", "duplicate", "rejected"])
        self.assertEqual(len(self.stored(event_id="in-1")), 1)

    def test_malformed_events_are_rejected_with_a_code_and_not_stored(self):
        _response, body = self.post_events(
            [
                self.event("ok-1"),
                {
                    "event_id": "missing-tenant",
                    "metric": "api_calls",
                    "quantity": 1,
                    "timestamp": "2026-01-15T10:00:00Z",
                },
                self.event("neg", quantity=-1),
                self.event("nan", quantity="abc"),
                self.event("bool", quantity=True),
                self.event("no-offset", timestamp="2026-01-15T10:00:00"),
                self.event("x" * 129),
                "not an object",
            ]
        )
        codes = [r.get("error", {}).get("code") for r in body["results"]]
        self.assertEqual(
            codes,
            [
                None,
                "missing_field",
                "invalid_quantity",
                "invalid_quantity",
                "invalid_quantity",
                "invalid_timestamp",
                "invalid_event_id",
                "invalid_event",
            ],
        )
        self.assertEqual((body["accepted"], body["rejected"]), (1, 7))
        self.assertEqual(self.stored().mapped("event_id"), ["ok-1"])
        log = self.env["usage.ingest.log"].search([("api_key_id", "=", self.key.id)])
        self.assertEqual(log.rejected, 7)
        self.assertEqual(len(log.errors), 7)

    def test_unknown_tenant_and_metric_are_quarantined_then_reprocessed(self):
        future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
        _response, body = self.post_events(
            [
                self.event("q-tenant", tenant="newco"),
                self.event("q-metric", metric="gpu_hours"),
                self.event("q-future", timestamp=future),
            ]
        )
        self.assertEqual(body["quarantined"], 3)
        reasons = [r["error"]["code"] for r in body["results"]]
        self.assertEqual(reasons, ["unknown_tenant", "unknown_metric", "future_timestamp"])
        quarantined = self.stored(state="quarantined")
        self.assertEqual(len(quarantined), 3)

        # The admin maps the missing tenant and creates the metric, then reprocesses.
        newco = self._make_tenant("newco", self.env["res.partner"].create({"name": "NewCo"}))
        self.assertEqual(newco.quarantined_count, 1, "the new tenant shows what waits for it")
        self._make_metric("gpu_hours", "sum")
        action = quarantined.action_reprocess()
        self.assertEqual(
            action["params"]["message"], "2 of 3 events accepted; the others stay quarantined."
        )
        released = quarantined.filtered(lambda e: e.state == "accepted")
        self.assertCountEqual(released.mapped("event_id"), ["q-tenant", "q-metric"])
        self.assertEqual(self.stored(event_id="q-tenant").state, "accepted")
        self.assertEqual(self.stored(event_id="q-tenant").tenant_id.external_id, "newco")
        self.assertEqual(self.stored(event_id="q-future").quarantine_reason, "future_timestamp")

    def test_cron_reprocesses_quarantine_and_discard_keeps_the_row(self):
        self.post_events([self.event("c-1", tenant="later"), self.event("c-2", tenant="never")])
        self._make_tenant("later", self.env["res.partner"].create({"name": "Later"}))
        self.env.ref("usage_billing_connector.ir_cron_reprocess_quarantine").method_direct_trigger()
        self.assertEqual(self.stored(event_id="c-1").state, "accepted")
        never = self.stored(event_id="c-2")
        self.assertEqual(never.state, "quarantined")
        never.action_discard()
        self.assertEqual(never.state, "discarded")

    def test_tenant_not_active_or_not_allowed_is_quarantined(self):
        self.tenant_two.state = "suspended"
        restricted = self._make_key(
            "key-restricted", self.company, tenant_scope="selected", tenant_ids=self.tenant_two.ids
        )
        self.assertTrue(restricted)
        _r, body = self.post_events(
            [self.event("n-1", tenant="t-one"), self.event("n-2", tenant="t-two")],
            key_id="key-restricted",
        )
        reasons = [r["error"]["code"] for r in body["results"]]
        self.assertEqual(reasons, ["tenant_not_allowed", "tenant_inactive"])

    def test_health_answers_after_a_database_round_trip(self):
        response = self.url_open("/usage_billing/v1/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})
