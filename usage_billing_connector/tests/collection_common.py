"""A company billing usage, a demo payment provider, a webhook endpoint and a receiver."""

from datetime import timedelta

from odoo.tests import HttpCase

from .billing_common import BillingCase
from .common import LocalServerTimeouts, OutboxJobs
from .webhook_receiver import WebhookReceiver

SECRET = "whsec_test_0123456789"


class CollectionCase(LocalServerTimeouts, OutboxJobs, BillingCase, HttpCase):
    """HttpCase: failed deliveries are logged through a second cursor, which only
    shares the test transaction in HTTP test mode; ``payment_demo`` plays the card."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = WebhookReceiver(SECRET).start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.partner_a.email = "billing@partner-a.example.com"
        cls.plan = cls._plan(
            "metered",
            [{"metric_id": cls.calls.id, "pricing_model": "per_unit", "unit_price": 0.5}],
            fee=100.0,
        )
        cls.provider = (
            cls.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", cls.company.id)], limit=1)
        )
        cls.provider.write({"state": "test", "allow_tokenization": True})
        cls.endpoint = cls.env["usage.webhook.endpoint"].create(
            {
                "name": "Product",
                "url": cls.receiver.url,
                "secret": SECRET,
                "company_id": cls.company.id,
                "max_attempts": 3,
            }
        )

    def setUp(self):
        super().setUp()
        self.receiver.reset()

    def token(self, simulated_state="done", partner=None):
        return (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.env.ref("payment_demo.payment_method_demo").id,
                    "partner_id": (partner or self.partner_a).id,
                    "payment_details": "4242",
                    "provider_ref": "demo-token",
                    "demo_simulated_state": simulated_state,
                }
            )
        )

    def approved_statement(self, calls=10):
        """A closed January of the tenant (100 fee + calls at 0.50), approved."""
        subscription = self.subscribe(self.plan)
        self.usage(self.calls, calls)
        statement = self.close(subscription)[0]
        statement.action_approve()
        return statement

    def deliveries(self, event_type=None):
        domain = [("endpoint_id", "=", self.endpoint.id)]
        if event_type:
            domain.append(("event_type", "=", event_type))
        return self.env["usage.webhook.delivery"].search(domain, order="id")

    def pay(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()

    @staticmethod
    def day(invoice, days):
        return invoice.invoice_date_due + timedelta(days=days)

    @staticmethod
    def set_simulated_state(token, state):
        token.sudo().demo_simulated_state = state
