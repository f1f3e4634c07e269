import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..core import signing
from .common import UsageApiCase


@tagged("post_install", "-at_install")
class TestIngestAuthentication(UsageApiCase):
    def test_wrong_secret_is_refused_and_nothing_is_stored(self):
        response, _body = self.post_events([self.event("a-1")], secret="not-the-secret")
        self.assertError(response, 401, "invalid_signature")
        self.assertFalse(self.stored())

    def test_unknown_and_revoked_keys_are_refused(self):
        self.assertError(
            self.post_events([self.event("a-2")], key_id="nope")[0], 401, "unknown_key"
        )
        self.key.action_revoke()
        self.assertError(self.post_events([self.event("a-3")])[0], 401, "unknown_key")

    def test_missing_or_garbled_signature_header(self):
        body = {"events": [self.event("a-4")]}
        response = self.post(body, headers={"X-Usage-Signature": "garbage"})
        self.assertError(response, 401, "invalid_signature")

    def test_stale_timestamp_is_refused_even_with_a_valid_signature(self):
        stale = int(time.time()) - 301
        response, _ = self.post_events([self.event("a-5")], timestamp=stale)
        self.assertError(response, 401, "stale_signature")
        fresh_enough = int(time.time()) - 250
        response, _ = self.post_events([self.event("a-6")], timestamp=fresh_enough)
        self.assertEqual(response.status_code, 200)

    def test_signature_over_another_body_does_not_pass(self):
        raw = b'{"events": []}'
        t = int(time.time())
        response = self.url_open(
            "/usage_billing/v1/events",
            data=b'{"events": [{"event_id": "forged"}]}',
            headers={
                "Content-Type": "application/json",
                "X-Usage-Key": "key-test",
                "X-Usage-Signature": signing.sign_header(self.secret, t, raw),
            },
            method="POST",
        )
        self.assertError(response, 401, "invalid_signature")

    def test_rotation_keeps_the_previous_secret_valid_until_its_date(self):
        old_secret = self.secret
        action = self.key.action_generate_secret(grace_hours=1)
        new_secret = action["params"]["message"]
        self.assertNotEqual(new_secret, old_secret)
        self.assertEqual(
            self.post_events([self.event("r-1")], secret=new_secret)[0].status_code, 200
        )
        self.assertEqual(
            self.post_events([self.event("r-2")], secret=old_secret)[0].status_code, 200
        )
        self.key.previous_secret_valid_until = fields.Datetime.now() - timedelta(seconds=1)
        response, _ = self.post_events([self.event("r-3")], secret=old_secret)
        self.assertError(response, 401, "invalid_signature")

    def test_several_v1_signatures_any_match_passes(self):
        raw = (
            b'{"events": [{"event_id": "multi", "tenant": "t-one", "metric": "api_calls", '
            b'"quantity": 1, "timestamp": "2026-01-15T10:00:00Z"}]}'
        )
        t = int(time.time())
        good = signing.compute(self.secret, t, raw)
        bad = signing.compute("other", t, raw)
        response = self.url_open(
            "/usage_billing/v1/events",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Usage-Key": "key-test",
                "X-Usage-Signature": f"t={t},v1={bad},v1={good}",
            },
            method="POST",
        )
        self.assertEqual(response.status_code, 200, response.text)

    def test_secret_is_never_stored_in_plaintext(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM usage_api_key WHERE secret_encrypted LIKE %s"
            " OR secret_hint LIKE %s OR name LIKE %s",
            [f"%{self.secret}%"] * 3,
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertTrue(self.key.sudo().secret_encrypted)
        self.assertEqual(self.key.secret_hint, "••••" + self.secret[-4:])
