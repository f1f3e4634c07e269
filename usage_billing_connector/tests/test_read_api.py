from datetime import datetime

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import UsageApiCase, fail_to_serialize, without_retry_backoff

USAGE = "/usage_billing/v1/tenants/{}/usage"
ENTITLEMENTS = "/usage_billing/v1/tenants/{}/entitlements"
INVOICES = "/usage_billing/v1/tenants/{}/invoices"


@tagged("post_install", "-at_install")
class TestReadApi(UsageApiCase):
    """Usage so far, entitlements and invoices, signed like ingestion."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Invoices need a sale journal: the API test company gets Odoo's generic chart.
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company)
        cls.fee = cls.env["product.product"].create(
            {"name": "Seat", "type": "service", "company_id": cls.company.id}
        )
        cls.plan = cls.env["usage.plan"].create(
            {
                "code": "pro",
                "name": "Pro",
                "company_id": cls.company.id,
                "fee_product_id": cls.fee.id,
                "fee_unit_price": 30.0,
                "charge_ids": [
                    Command.create(
                        {
                            "metric_id": cls.metric.id,
                            "pricing_model": "graduated",
                            "included_quantity": 100,
                            "soft_limit": 800,
                            "hard_limit": 1000,
                            "tier_ids": [
                                Command.create({"up_to": 500, "unit_price": 0.1}),
                                Command.create({"up_to": 0, "unit_price": 0.05}),
                            ],
                        }
                    ),
                    Command.create(
                        {
                            "metric_id": cls.users_metric.id,
                            "unit_price": 2.0,
                            "minimum_amount": 5.0,
                        }
                    ),
                ],
            }
        )
        cls.sub = cls.env["usage.subscription"].create(
            {
                "tenant_id": cls.tenant.id,
                "company_id": cls.company.id,
                "plan_id": cls.plan.id,
                "seats": 2,
                "start_date": "2026-01-01 00:00:00",
                "billing_anchor": "2026-01-01 00:00:00",
            }
        )

    def _send(self, quantity, when, metric="api_calls", **props):
        event = self.event(f"r-{self._next()}", metric=metric, quantity=quantity, timestamp=when)
        if props:
            event["properties"] = props
        _response, body = self.post_events([event])
        self.assertEqual(body["accepted"], 1, body)

    _counter = 0

    def _next(self):
        TestReadApi._counter += 1
        return TestReadApi._counter

    def test_usage_equals_the_statement_of_the_period_when_it_closes(self):
        self._send(700, "2026-01-05T10:00:00Z")
        self._send(450, "2026-01-20T10:00:00Z")
        for user in ("a", "b", "a"):
            self._send(1, "2026-01-21T10:00:00Z", metric="active_users", user_id=user)
        self.sub._apply_change("seats_changed", "2026-01-16 00:00:00", seats=4)
        response = self.get(USAGE.format("t-one") + "?period=2026-01-10T00:00:00Z")
        self.assertEqual(response.status_code, 200, response.text)
        usage = response.json()
        self.assertEqual(
            (usage["plan"], usage["period_start"], usage["period_end"]),
            ("pro", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        )
        calls = next(m for m in usage["metrics"] if m["metric"] == "api_calls")
        # 1,150 used, 100 included: 500 × 0.1 + 550 × 0.05 = 77.50; beyond the hard limit.
        self.assertEqual(
            {k: calls[k] for k in ("used", "included", "remaining", "amount", "limit_state")},
            {
                "used": "1150",
                "included": "100",
                "remaining": "0",
                "amount": "77.50",
                "limit_state": "hard_exceeded",
            },
        )
        users = next(m for m in usage["metrics"] if m["metric"] == "active_users")
        self.assertEqual((users["used"], users["amount"]), ("2", "5.00"), "minimum applies")
        with freeze_time(datetime(2026, 2, 1, 0, 0, 1)):
            (statement,) = self.env["usage.period.closing"]._close_subscription(self.sub)
        by_metric = {line.metric_id.code: line for line in statement.line_ids if line.metric_id}
        for metric in usage["metrics"]:
            self.assertEqual(
                float(metric["amount"]), by_metric[metric["metric"]].amount, metric["metric"]
            )
        fees = statement.line_ids.filtered(lambda line: line.kind == "fee")
        self.assertEqual(
            [float(fee["amount"]) for fee in usage["fees"]],
            fees.sorted("sequence").mapped("amount"),
        )
        self.assertEqual(float(usage["amount_untaxed"]), statement.amount_untaxed)

    def test_entitlements_block_at_the_hard_limit_and_warn_at_the_soft_one(self):
        now = datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        body = self.get(ENTITLEMENTS.format("t-one")).json()
        calls = next(e for e in body["entitlements"] if e["metric"] == "api_calls")
        self.assertEqual(
            calls,
            {"metric": "api_calls", "allowed": True, "limit_state": "ok", "remaining": "1000"},
        )
        self._send(850, now)
        calls = next(
            e
            for e in self.get(ENTITLEMENTS.format("t-one")).json()["entitlements"]
            if e["metric"] == "api_calls"
        )
        self.assertEqual(
            (calls["allowed"], calls["limit_state"], calls["remaining"]),
            (True, "soft_exceeded", "150"),
        )
        self._send(200, now)  # still ingested: usage beyond a limit is never dropped
        calls = next(
            e
            for e in self.get(ENTITLEMENTS.format("t-one")).json()["entitlements"]
            if e["metric"] == "api_calls"
        )
        self.assertEqual(
            (calls["allowed"], calls["limit_state"], calls["remaining"]),
            (False, "hard_exceeded", "0"),
        )
        self.assertEqual(self.get(USAGE.format("t-one")).json()["metrics"][0]["used"], "1050")

    def test_invoices_newest_first_by_cursor_with_portal_links(self):
        invoices = self.env["account.move"]
        for day in (3, 1, 2):
            invoice = invoices.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.tenant.partner_id.id,
                    "company_id": self.company.id,
                    "invoice_date": f"2026-03-0{day}",
                    "invoice_line_ids": [Command.create({"name": "x", "price_unit": 10 * day})],
                }
            )
            invoice.action_post()
            invoices |= invoice
        draft = invoices[0].copy()
        first = self.get(INVOICES.format("t-one") + "?limit=2").json()
        numbers = [row["number"] for row in first["data"]]
        expected = invoices.sorted(lambda m: m.invoice_date, reverse=True).mapped("name")
        self.assertEqual(numbers, expected[:2])
        self.assertTrue(first["has_more"])
        row = first["data"][0]
        self.assertEqual((row["amount_untaxed"], row["payment_state"]), ("30.00", "not_paid"))
        self.assertIn("access_token=", row["portal_url"])
        target = INVOICES.format("t-one") + f"?limit=2&starting_after={numbers[-1]}"
        second = self.get(target).json()
        self.assertEqual([r["number"] for r in second["data"]], expected[2:])
        self.assertFalse(second["has_more"])
        self.assertNotIn(draft.name, [r["number"] for r in first["data"] + second["data"]])

    def test_signature_scope_and_parameter_errors_answer_as_ingestion(self):
        target = USAGE.format("t-one") + "?period=current"
        self.assertEqual(self.get(target).status_code, 200)
        wrong_query = self.get(target, signed=f"GET {USAGE.format('t-one')}".encode())
        self.assertError(wrong_query, 401, "invalid_signature")
        self.assertError(self.get(target, timestamp=1), 401, "stale_signature")
        self.assertError(self.get(target, key_id="nope"), 401, "unknown_key")
        self.assertError(self.get(USAGE.format("ghost")), 404, "unknown_tenant")
        self.assertError(self.get(USAGE.format("t-two")), 404, "no_subscription")
        self.assertError(
            self.get(USAGE.format("t-one") + "?period=yesterday"), 400, "invalid_period"
        )
        self.assertError(self.get(INVOICES.format("t-one") + "?limit=0"), 400, "invalid_limit")
        self.assertError(
            self.get(INVOICES.format("t-one") + "?starting_after=NOPE"), 400, "invalid_cursor"
        )
        scoped = self._make_key(
            "key-scoped",
            self.company,
            tenant_scope="selected",
            tenant_ids=[Command.set(self.tenant_two.ids)],
        )
        self.assertError(
            self.get(ENTITLEMENTS.format("t-one"), key_id=scoped.key_id), 403, "tenant_not_allowed"
        )
        self.key.rate_limit = 1
        self.get(ENTITLEMENTS.format("t-one"))
        response = self.get(ENTITLEMENTS.format("t-one"))
        self.assertError(response, 429, "rate_limited")
        self.assertIn("Retry-After", response.headers)

    @mute_logger("odoo.sql_db", "odoo.addons.usage_billing_connector.controllers.signed_api")
    def test_a_read_whose_rate_counter_fails_to_serialize_at_every_try_is_answered_503(self):
        # A write of the request that fails to serialize at every try.  In production
        # the rate counter commits on its own cursor (a portal token is what can
        # fail); in an HttpCase it shares the test's cursor, so it stands in here.
        self.key.rate_limit = 1000
        fail_to_serialize(self.env.cr, "usage_rate_counter")
        with without_retry_backoff():
            response = self.get(ENTITLEMENTS.format("t-one"))
        self.assertError(response, 503, "busy")
        self.assertEqual(response.headers["Retry-After"], "1")

    def test_previous_period(self):
        body = self.get(USAGE.format("t-one") + "?period=previous").json()
        now = datetime.now()
        start = datetime.fromisoformat(body["period_end"].replace("Z", ""))
        self.assertLess(start, now, "the previous period has ended")

    def test_usage_shows_the_prepaid_credit_and_its_expiries(self):
        body = self.get(USAGE.format("t-one")).json()
        currency = self.tenant.currency_id.name
        self.assertEqual(body["credits"], {"balance": "0.00", "currency": currency, "expires": []})
        grants = self.env["usage.credit.grant"].create(
            [
                {"tenant_id": self.tenant.id, "kind": "granted", "reason": "Trial", "amount": a}
                | ({"expiry_date": expiry} if expiry else {})
                for a, expiry in ((40.0, "2099-03-31"), (60.5, None))
            ]
        )
        grants.action_confirm()
        body = self.get(USAGE.format("t-one")).json()
        self.assertEqual(
            body["credits"],
            {
                "balance": "100.50",
                "currency": currency,
                "expires": [{"date": "2099-03-31", "amount": "40.00"}],
            },
        )
