import json

from odoo.service import model as service_model
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import UsageApiCase, fail_to_serialize, without_retry_backoff


@tagged("post_install", "-at_install")
class TestIngestLimits(UsageApiCase):
    def test_more_than_the_batch_limit_is_refused_whole(self):
        events = [self.event(f"many-{i}") for i in range(1001)]
        response, _ = self.post_events(events)
        self.assertError(response, 400, "too_many_events")
        self.assertFalse(self.stored())

    def test_batch_limit_is_a_setting(self):
        self.env["ir.config_parameter"].set_param("usage_billing.max_events", "2")
        response, _ = self.post_events([self.event(f"s-{i}") for i in range(3)])
        self.assertError(response, 400, "too_many_events")

    def test_oversize_body_is_refused_with_413(self):
        self.env["ir.config_parameter"].set_param("usage_billing.max_body_bytes", "1000")
        padding = {"pad": "x" * 2000}
        response, _ = self.post_events([self.event("big", properties=padding)])
        self.assertError(response, 413, "payload_too_large")
        self.assertFalse(self.stored())

    def test_other_content_type_is_refused_with_415(self):
        response = self.post({"events": [self.event("ct")]}, headers={"Content-Type": "text/plain"})
        self.assertError(response, 415, "unsupported_media_type")

    def test_invalid_json_and_bad_envelope_are_400(self):
        self.assertError(self.post(b"{not json"), 400, "invalid_json")
        self.assertError(self.post({"event": []}), 400, "invalid_request")
        self.assertError(self.post(b"[]"), 400, "invalid_request")
        self.assertError(self.post({"events": []}), 400, "invalid_request")

    def test_rate_limit_answers_429_with_retry_after(self):
        self.key.rate_limit = 2
        for i in range(2):
            self.assertEqual(self.post_events([self.event(f"rl-{i}")])[0].status_code, 200)
        response, _ = self.post_events([self.event("rl-2")])
        self.assertError(response, 429, "rate_limited")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 60)
        self.assertFalse(self.stored(event_id="rl-2"))

    @mute_logger("odoo.sql_db", "odoo.addons.usage_billing_connector.controllers.signed_api")
    def test_a_write_that_fails_to_serialize_at_every_try_is_answered_503_in_json(self):
        # As when billing jobs keep closing the rows a batch writes.
        fail_to_serialize(self.env.cr, "usage_event_key", "NEW.event_id = 'busy-2'")
        with without_retry_backoff() as backoff:
            response, _ = self.post_events([self.event("busy-1"), self.event("busy-2")])
        tries = service_model.MAX_TRIES_ON_CONCURRENCY_FAILURE
        self.assertEqual(backoff.uniform.call_count, tries - 1, "every try of Odoo's")
        self.assertError(response, 503, "busy")
        self.assertEqual(response.headers["Retry-After"], "1")
        self.assertFalse(self.stored(), "nothing of the batch was stored")
        log = self.env["usage.ingest.log"].search([], limit=1)
        self.assertEqual((log.http_status, log.error_code), (503, "busy"))

    def test_errors_are_json_and_logged(self):
        response = self.url_open(
            "/usage_billing/v1/events",
            data=b"x",
            headers={"Content-Type": "application/xml"},
            method="POST",
        )
        self.assertEqual(json.loads(response.text)["error"]["code"], "unsupported_media_type")
        log = self.env["usage.ingest.log"].search([], limit=1)
        self.assertEqual((log.http_status, log.error_code), (415, "unsupported_media_type"))

    def test_retention_cron_purges_logs_older_than_the_setting(self):
        self.post_events([self.event("old-log")])
        self.env.cr.execute(
            "UPDATE usage_ingest_log SET create_date = create_date - interval '91 days'"
            " WHERE api_key_id = %s",
            [self.key.id],
        )
        self.post_events([self.event("fresh-log")])
        logs = self.env["usage.ingest.log"].search([("api_key_id", "=", self.key.id)])
        self.assertEqual(len(logs), 2)
        self.env["ir.config_parameter"].set_param("usage_billing.log_retention_days", "100")
        self.env["usage.ingest.log"]._cron_purge()
        self.assertEqual(len(logs.exists()), 2)
        self.env["ir.config_parameter"].set_param("usage_billing.log_retention_days", "90")
        self.env["usage.ingest.log"]._cron_purge()
        self.assertEqual(logs.exists().mapped("duplicates"), [0])
        self.assertEqual(len(logs.exists()), 1)

    def test_settings_refuse_values_that_would_break_the_api(self):
        from odoo.exceptions import ValidationError  # noqa: PLC0415

        for field, value in (
            ("usage_billing_max_events", 0),
            ("usage_billing_max_body_bytes", 100),
            ("usage_billing_signature_tolerance", -5),
            ("usage_billing_log_retention_days", 0),
        ):
            with self.subTest(field=field), self.assertRaises(ValidationError):
                self.env["res.config.settings"].create({field: value})
        # Edited below the minimum behind the form's back: the default applies.
        self.env["ir.config_parameter"].set_param("usage_billing.max_events", "-3")
        response, body = self.post_events([self.event("still-fine")])
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(body["accepted"], 1)
