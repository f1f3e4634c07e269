from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import UsageApiCase

URL = "/usage_billing/v1/subscription_events"


def at(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@tagged("post_install", "-at_install")
class TestSubscriptionHistory(UsageApiCase):
    """Lifecycle events arriving late or out of order: state follows the latest effective one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fee = cls.env["product.product"].create(
            {"name": "Seat", "type": "service", "company_id": cls.company.id}
        )
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.basic = cls._plan("basic", 10.0)
        cls.pro = cls._plan("pro", 30.0)

    @classmethod
    def _plan(cls, code, price, currency=None):
        return cls.env["usage.plan"].create(
            {
                "code": code,
                "name": code,
                "company_id": cls.company.id,
                "currency_id": (currency or cls.company.currency_id).id,
                "fee_product_id": cls.fee.id,
                "fee_unit_price": price,
                "charge_ids": [Command.create({"metric_id": cls.metric.id, "unit_price": 0.1})],
            }
        )

    def send(self, *events):
        response = self.post({"events": list(events)}, url=URL)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def setUp(self):
        super().setUp()
        # Real time: the HTTP server thread signs and checks with the real clock.
        self.now = fields.Datetime.now().replace(microsecond=0)

    def lifecycle(self, event_id, kind, when, tenant="t-one"):
        return {"event_id": event_id, "tenant": tenant, "type": kind, "effective_at": at(when)}

    def change(self, event_id, kind, when, **extra):
        return {**self.lifecycle(event_id, kind, when), **extra}

    def subscription(self, tenant=None):
        return self.env["usage.subscription"].search(
            [("tenant_id", "=", (tenant or self.tenant).id)], order="id desc", limit=1
        )

    def history(self, subscription):
        return [
            (c.effective_at, c.change_type, c.plan_id.code, c.seats, c.state)
            for c in subscription.change_ids.sorted(lambda c: (c.effective_at, c.id))
        ]

    def activate(self, when, seats=2, plan="basic"):
        body = self.send(self.change("act", "activated", when, plan=plan, seats=seats))
        self.assertEqual(body["accepted"], 1, body)
        return self.subscription()

    # ------------------------------------------------------------ out of order

    def test_latest_effective_seat_change_wins_whatever_the_arrival_order(self):
        subscription = self.activate(self.now - timedelta(days=10))
        self.send(self.change("s-50", "seats_changed", self.now - timedelta(minutes=1), seats=50))
        body = self.send(
            self.change("s-40", "seats_changed", self.now - timedelta(minutes=10), seats=40)
        )
        self.assertEqual(body["accepted"], 1, body)
        self.assertEqual(subscription.seats, 50)
        self.assertEqual(subscription.mrr, 500.0)
        self.assertEqual(
            [row[3] for row in self.history(subscription)], [2, 40, 50], "each segment its own"
        )

    def test_late_plan_change_takes_its_place_and_later_changes_keep_their_values(self):
        t0, t1, t2 = (self.now - timedelta(days=d) for d in (15, 10, 5))
        subscription = self.activate(t0, seats=2)
        self.send(self.change("seats", "seats_changed", t2, seats=5))
        self.send(self.change("late-plan", "plan_changed", t1, plan="pro"))
        self.assertEqual(
            self.history(subscription),
            [
                (t0, "activated", "basic", 2, "active"),
                (t1, "plan_changed", "pro", 2, "active"),
                (t2, "seats_changed", "pro", 5, "active"),
            ],
        )
        self.assertRecordValues(subscription, [{"plan_id": self.pro.id, "seats": 5}])

    def test_late_suspension_and_reactivation_are_replayed_in_effective_order(self):
        t0, t1, t2, t3 = (self.now - timedelta(days=d) for d in (15, 10, 5, 1))
        subscription = self.activate(t0, seats=1)
        self.send(self.change("seats", "seats_changed", t2, seats=3))
        self.send(self.lifecycle("late-suspend", "suspended", t1))
        self.assertEqual(
            [(row[3], row[4]) for row in self.history(subscription)],
            [(1, "active"), (1, "suspended"), (3, "suspended")],
            "the seat change happened while suspended: it stays suspended",
        )
        self.assertEqual((subscription.state, subscription.mrr), ("suspended", 0.0))
        self.send(self.lifecycle("react", "reactivated", t3))
        self.assertEqual((subscription.state, subscription.seats), ("active", 3))

    def test_late_cancellation_is_final_and_later_events_need_a_subscription_in_force(self):
        t0, t1, t2 = (self.now - timedelta(days=d) for d in (15, 10, 5))
        subscription = self.activate(t0, seats=1)
        self.send(self.change("seats", "seats_changed", t2, seats=3))
        self.send(self.lifecycle("late-cancel", "cancelled", t1))
        self.assertRecordValues(
            subscription, [{"state": "cancelled", "cancelled_at": t1, "seats": 3}]
        )
        self.assertEqual(self.history(subscription)[-1][4], "cancelled")
        after = self.send(self.lifecycle("after", "suspended", self.now - timedelta(days=1)))
        self.assertEqual(after["results"][0]["error"]["code"], "no_subscription")
        before = self.send(self.change("before", "seats_changed", t1 - timedelta(days=1), seats=7))
        self.assertEqual(before["accepted"], 1, "a late change while it was in force is kept")
        self.assertEqual(subscription.state, "cancelled")

    def test_changes_before_activation_or_in_a_stated_period_are_rejected(self):
        subscription = self.activate(datetime(2026, 1, 1))
        early = self.send(self.change("early", "seats_changed", datetime(2025, 12, 1), seats=4))
        self.assertEqual(early["results"][0]["error"]["code"], "no_subscription")
        with freeze_time(datetime(2026, 3, 20)):
            self.env["usage.period.closing"]._close_subscription(
                subscription
            )  # January and February are stated
        self.assertEqual(len(subscription.statement_ids), 2)
        late = self.send(self.change("closed", "seats_changed", datetime(2026, 2, 10), seats=9))
        self.assertEqual(late["results"][0]["error"]["code"], "period_closed")
        self.assertEqual(subscription.seats, 2)

    def test_billing_prorates_exactly_what_was_in_force(self):
        """March 2026 has 31 days; statements bill the replayed history by the second."""
        subscription = self.activate(datetime(2026, 3, 1), seats=1)
        # Received in reverse order: seats 4 from the 17th, pro from the 9th.
        self.send(self.change("s", "seats_changed", datetime(2026, 3, 17), seats=4))
        self.send(self.change("p", "plan_changed", datetime(2026, 3, 9), plan="pro"))
        with freeze_time(datetime(2026, 4, 1, 0, 0, 1)):
            (statement,) = self.env["usage.period.closing"]._close_subscription(subscription)
        fees = statement.line_ids.filtered(lambda line: line.kind == "fee").sorted("sequence")
        day = 10.0 / 31
        expected = [1 * 8 * day, 30 * 1 * 8 / 31, 30 * 4 * 15 / 31]
        self.assertEqual(len(fees), 3, fees.mapped("name"))
        for line, amount in zip(fees, expected, strict=True):
            self.assertAlmostEqual(line.amount, round(amount, 2), places=2)

    # ------------------------------------------------------------ currencies

    def test_plan_and_tenant_must_share_a_currency(self):
        self.tenant.currency_id = self.eur
        body = self.send(self.change("eur-1", "activated", datetime(2026, 3, 1), plan="basic"))
        self.assertEqual(body["results"][0]["error"]["code"], "currency_mismatch")
        self.assertIn("EUR", body["results"][0]["error"]["message"])
        basic_eur = self._plan("basic", 9.0, currency=self.eur)
        body = self.send(self.change("eur-2", "activated", datetime(2026, 3, 1), plan="basic"))
        self.assertEqual(body["accepted"], 1, body)
        subscription = self.subscription()
        self.assertEqual(subscription.plan_id, basic_eur)
        body = self.send(self.change("eur-3", "plan_changed", datetime(2026, 3, 5), plan="pro"))
        self.assertEqual(body["results"][0]["error"]["code"], "currency_mismatch")
        self.assertEqual(subscription.plan_id, basic_eur)
        with freeze_time(datetime(2026, 4, 1, 0, 0, 1)):
            (statement,) = self.env["usage.period.closing"]._close_subscription(subscription)
        self.assertEqual(statement.currency_id, self.eur)
        self.assertEqual(statement.amount_untaxed, 9.0)

    def test_ui_refuses_a_plan_in_another_currency_and_a_tenant_currency_change(self):
        self.tenant.currency_id = self.eur
        with self.assertRaises(ValidationError):
            self.env["usage.subscription"].create(
                {
                    "tenant_id": self.tenant.id,
                    "company_id": self.company.id,
                    "plan_id": self.basic.id,
                }
            )
        self.tenant.currency_id = self.company.currency_id
        subscription = self.env["usage.subscription"].create(
            {"tenant_id": self.tenant.id, "company_id": self.company.id, "plan_id": self.basic.id}
        )
        with self.assertRaises(ValidationError):
            self.tenant.currency_id = self.eur
        with self.assertRaises(UserError):
            subscription.plan_id = self.pro  # follows the history: record a change instead
        wizard = self.env["usage.subscription.change.wizard"].create(
            {
                "subscription_id": subscription.id,
                "change_type": "plan_changed",
                "plan_id": self.pro.id,
                "effective_at": fields.Datetime.now(),
            }
        )
        wizard.action_apply()
        self.assertEqual(subscription.plan_id, self.pro)

    def test_existing_mismatch_is_reported_and_never_billed(self):
        subscription = self.env["usage.subscription"].create(
            {
                "tenant_id": self.tenant.id,
                "company_id": self.company.id,
                "plan_id": self.basic.id,
                "start_date": "2026-01-01 00:00:00",
                "billing_anchor": "2026-01-01 00:00:00",
            }
        )
        # As an earlier version could leave it: the tenant moved to EUR afterwards.
        self.env.cr.execute(
            "UPDATE usage_tenant SET currency_id = %s WHERE id = %s", [self.eur.id, self.tenant.id]
        )
        self.env.invalidate_all()
        subscription._compute_currency_mismatch()
        self.assertTrue(subscription.currency_mismatch)
        mismatched = self.env["usage.subscription"].search([("currency_mismatch", "=", True)])
        self.assertEqual(mismatched, subscription)
        with freeze_time("2026-02-01 00:00:01"):
            due = self.env["usage.period.closing"]._due_subscriptions()
            self.assertNotIn(subscription, [sub for sub, _period in due])
            with self.assertRaises(UserError):
                self.env["usage.period.closing"]._close_subscription(subscription)
        self.assertFalse(subscription.statement_ids)

    # ------------------------------------------------------------ upgrade

    def test_upgrade_derives_requests_and_replays_in_effective_order(self):
        """Rows of 19.0.1.0.0 stored only the state after each change, in arrival order."""
        t0, t1, t2 = datetime(2026, 3, 1), datetime(2026, 3, 5), datetime(2026, 3, 10)
        subscription = self.activate(t0, seats=2)
        self.send(self.change("s", "seats_changed", t2, seats=5))
        self.send(self.change("p", "plan_changed", t1, plan="pro"))
        # What the old code stored: seats 5 at t2 (basic), then pro with 5 seats at t1.
        self.env.cr.execute(
            """
            UPDATE usage_subscription_change SET requested_plan_id = NULL, sets_seats = NULL,
                   requested_seats = NULL, requested_state = NULL,
                   plan_id = CASE WHEN event_id = 's' THEN %(basic)s ELSE %(pro)s END,
                   seats = CASE WHEN event_id = 'act' THEN 2 ELSE 5 END
             WHERE subscription_id = %(sub)s AND event_id IN ('act', 's', 'p')
            """,
            {"basic": self.basic.id, "pro": self.pro.id, "sub": subscription.id},
        )
        self.env.cr.execute(
            "UPDATE usage_subscription_change SET plan_id = %s WHERE event_id = 'act'",
            [self.basic.id],
        )
        self.env.invalidate_all()
        self.env["usage.subscription"]._migrate_history_requests()
        self.assertEqual(
            [(row[2], row[3]) for row in self.history(subscription)],
            [("basic", 2), ("pro", 2), ("pro", 5)],
        )
        self.assertRecordValues(subscription, [{"plan_id": self.pro.id, "seats": 5}])
