import json

from odoo.tests import tagged

from .common import UsageApiCase

LIFECYCLE_URL = "/usage_billing/v1/subscription_events"


@tagged("post_install", "-at_install")
class TestIngestHostileInput(UsageApiCase):
    """Input PostgreSQL cannot store is rejected per event, never answered with a 500."""

    def test_nul_and_surrogates_reject_only_their_event(self):
        bad_values = ("nul\x00inside", "lone\ud800surrogate")
        events = [self.event("fine-1")]
        for bad in bad_values:
            events += [
                self.event("bad-id-" + bad),
                self.event(f"bad-tenant-{len(events)}", tenant=bad),
                self.event(f"bad-metric-{len(events)}", metric=bad),
                self.event(f"bad-ts-{len(events)}", timestamp="2026-01-15T10:00:00Z" + bad),
                self.event(f"bad-key-{len(events)}", properties={bad: 1}),
                self.event(f"bad-value-{len(events)}", properties={"k": [{"v": bad}]}),
            ]
        events.append(self.event("fine-2"))
        # json.dumps writes \u0000 and \ud800 as escapes, exactly as a client would send them.
        response, body = self.post_events(events)
        self.assertEqual(response.status_code, 200, response.text)
        statuses = [r["status"] for r in body["results"]]
        self.assertEqual(statuses, ["accepted"] + ["rejected"] * 12 + ["accepted"])
        codes = {r["error"]["code"] for r in body["results"] if r["status"] == "rejected"}
        self.assertEqual(codes, {"invalid_characters"})
        self.assertIsNone(body["results"][1]["event_id"], "an unstorable id is not echoed")
        self.assertEqual(body["results"][2]["event_id"], "bad-tenant-1")
        self.assertEqual(sorted(self.stored().mapped("event_id")), ["fine-1", "fine-2"])
        log = self.env["usage.ingest.log"].search([("request_id", "=", body["request_id"])])
        self.assertEqual((log.http_status, log.accepted, log.rejected), (200, 2, 12))

    def test_deep_nesting_is_a_400_for_the_body_and_a_rejection_for_properties(self):
        deep_body = b'{"events": [' + b"[" * 3000 + b"]" * 3000 + b"]}"
        self.assertError(self.post(deep_body), 400, "invalid_json")
        nested = {"v": 1}
        for _ in range(20):
            nested = {"n": nested}
        response, body = self.post_events(
            [self.event("deep-props", properties=nested), self.event("flat")]
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(body["results"][0]["error"]["code"], "invalid_properties")
        self.assertEqual(body["accepted"], 1)
        self.assertEqual(self.stored().mapped("event_id"), ["flat"])

    def test_numbers_json_does_not_have_and_other_encodings_are_400(self):
        for raw in (
            b'{"events": [{"event_id": "n", "quantity": NaN}]}',
            b'{"events": [{"event_id": "n", "quantity": Infinity}]}',
            json.dumps({"events": [self.event("u16")]}).encode("utf-16"),
        ):
            self.assertError(self.post(raw), 400, "invalid_json")
        event = json.dumps(self.event("huge-prop", properties={"x": "HUGE"}))
        raw = b'{"events": [' + event.replace('"HUGE"', "1e309").encode() + b"]}"
        body = self.post(raw).json()
        self.assertEqual(body["results"][0]["error"]["code"], "invalid_properties")
        self.assertFalse(self.stored())

    def test_bom_prefixed_body_is_accepted(self):
        raw = b"\xef\xbb\xbf" + json.dumps({"events": [self.event("bom")]}).encode()
        response = self.post(raw)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.stored().mapped("event_id"), ["bom"])

    def test_unprintable_key_id_and_non_hex_signature_are_401(self):
        raw = json.dumps({"events": [self.event("k")]}).encode()
        response = self.url_open(
            "/usage_billing/v1/events",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Usage-Key": "key-test\x00",
                "X-Usage-Signature": "t=1,v1=00",
            },
            method="POST",
        )
        self.assertError(response, 401, "unknown_key")
        response = self.post(raw, headers={"X-Usage-Signature": "t=1,v1=" + "é" * 64})
        self.assertError(response, 401, "invalid_signature")

    def test_lifecycle_events_with_unstorable_values_are_rejected(self):
        events = [
            {
                "event_id": "lc-nul",
                "tenant": "t-one",
                "type": "activated",
                "plan": "basic\x00",
                "effective_at": "2026-01-01T00:00:00Z",
            },
            {
                "event_id": "lc-seats",
                "tenant": "t-one",
                "type": "seats_changed",
                "seats": 2**31,
                "effective_at": "2026-01-01T00:00:00Z",
            },
            {
                "event_id": "lc-\ud800",
                "tenant": "t-one",
                "type": "suspended",
                "effective_at": "2026-01-01T00:00:00Z",
            },
        ]
        response = self.post({"events": events}, url=LIFECYCLE_URL)
        self.assertEqual(response.status_code, 200, response.text)
        codes = [r["error"]["code"] for r in response.json()["results"]]
        self.assertEqual(codes, ["invalid_characters", "invalid_seats", "invalid_characters"])
        self.assertFalse(
            self.env["usage.subscription"].search([("tenant_id", "=", self.tenant.id)])
        )
