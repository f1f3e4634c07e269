"""Browser flows (Odoo tours in ``static/tests/tours``), run in headless Chromium.

Odoo skips a tour, it does not fail it, when Chromium or the websocket-client
package is missing: ``tools/run_tests.py`` reports such skips as tours NOT run.
"""

from odoo.tests import HttpCase, tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestTours(BillingCase, HttpCase):
    """The accountant (``accountman``, usage billing manager) in the browser."""

    def setUp(self):
        super().setUp()
        customer = self.env["res.partner"].create({"name": "Globex Tour"})
        self.tour_tenant = self._make_tenant("globex-tour", customer)
        plan = self._plan(
            "tour",
            [
                {
                    "metric_id": self.calls.id,
                    "pricing_model": "graduated",
                    "tier_ids": self.tiers((1000, 0.10), (None, 0.05)),
                }
            ],
            fee=10.0,
        )
        subscription = self.subscribe(plan, tenant=self.tour_tenant)
        self.usage(self.calls, 1500, tenant=self.tour_tenant)
        (self.statement,) = self.close(subscription)

    def test_accountant_approves_a_statement_and_opens_its_draft_invoice(self):
        self.assertEqual(self.statement.state, "to_approve")
        self.start_tour(
            "/odoo/action-usage_billing_connector.usage_statement_action",
            "usage_billing_statement_approval",
            login="accountman",
        )
        self.assertEqual(self.statement.state, "approved")
        self.assertRecordValues(
            self.statement.invoice_id,
            [{"state": "draft", "amount_untaxed": 135.0}],  # 10 + 1,000 × 0.10 + 500 × 0.05
        )

    def test_admin_maps_the_tenant_of_a_quarantined_event_and_reprocesses_it(self):
        self.env["res.partner"].create({"name": "Initech Tour"})
        # sudo: usage events are written by the ingestion API, never by users.
        event = (
            self.env["usage.event"]
            .sudo()
            .create(
                {
                    "event_id": "tour-unknown-tenant",
                    "company_id": self.company.id,
                    "tenant_ref": "initech-tour",
                    "metric_code": self.calls.code,
                    "quantity": 42,
                    "occurred_at": "2026-01-20 09:00:00",
                    "received_at": "2026-01-20 09:00:01",
                    "state": "quarantined",
                    "quarantine_reason": "unknown_tenant",
                }
            )
        )
        self.start_tour(
            "/odoo/action-usage_billing_connector.usage_event_action_quarantine",
            "usage_billing_quarantine_fix",
            login="accountman",
        )
        tenant = self.env["usage.tenant"].search([("external_id", "=", "initech-tour")])
        self.assertEqual(tenant.partner_id.name, "Initech Tour")
        self.assertRecordValues(
            event,
            [{"state": "accepted", "quarantine_reason": False, "tenant_id": tenant.id}],
        )
