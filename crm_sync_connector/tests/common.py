"""Shared fixtures: a company with a tenant on a plan, and the fake CRM server.

``fake_crm_server`` (next to this file) is plain Python: the Odoo tests talk
real HTTP to the same fake CRM as the repo-level suite.
"""

from datetime import timedelta

from odoo import fields
from odoo.addons.usage_billing_connector.tests.common import (
    LocalServerTimeouts,
    OutboxJobs,
    UsageFixtures,
)
from odoo.tests import HttpCase

from .fake_crm_server import FakeCrmServer


class CrmSyncCase(LocalServerTimeouts, OutboxJobs, UsageFixtures, HttpCase):
    """HttpCase: delivery jobs log failed attempts through a second cursor, which
    only shares the test transaction in HTTP test mode."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.crm = FakeCrmServer().start()
        cls.addClassCleanup(cls.crm.stop)
        # Only the backends a test makes receive its changes (not the demo's).
        cls.env["crm.sync.backend"].search([]).write({"active": False})
        cls.company = cls.env["res.company"].create({"name": "CRM Sync Co"})
        cls.env = cls.env(
            context=dict(
                cls.env.context, allowed_company_ids=[cls.company.id], tracking_disable=True
            )
        )
        cls.product = cls.env["product.product"].create(
            {"name": "API call", "type": "service", "company_id": cls.company.id}
        )
        cls.metric = cls.env["usage.metric"].create(
            {
                "code": "api_calls",
                "name": "API calls",
                "aggregation": "sum",
                "product_id": cls.product.id,
                "company_id": cls.company.id,
            }
        )
        cls.plan = cls.env["usage.plan"].create(
            {
                "code": "growth",
                "name": "Growth",
                "company_id": cls.company.id,
                "fee_product_id": cls.product.id,
                "fee_unit_price": 100.0,
                "charge_ids": [
                    fields.Command.create(
                        {
                            "metric_id": cls.metric.id,
                            "pricing_model": "per_unit",
                            "unit_price": 0.01,
                            "included_quantity": 1000,
                        }
                    )
                ],
            }
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Acme Corp", "company_id": cls.company.id}
        )
        cls.tenant = cls._make_tenant("acme", cls.partner)

    @classmethod
    def _subscribe(cls, tenant):
        return cls.env["usage.subscription"].create(
            {
                "tenant_id": tenant.id,
                "company_id": tenant.company_id.id,
                "plan_id": cls.plan.id,
                "seats": 2,
                "billing_anchor": fields.Datetime.now().replace(day=1, hour=0, minute=0, second=0)
                - timedelta(days=0),
            }
        )

    def setUp(self):
        super().setUp()
        self.crm.reset()

    # ------------------------------------------------------------------ backends

    def make_backend(self, backend_type="hubspot", **values):
        defaults = {
            "hubspot": {"base_url": self.crm.url, "token": FakeCrmServer.HUBSPOT_TOKEN},
            "salesforce": {
                "base_url": self.crm.url,
                "sf_token_url": self.crm.token_url,
                "sf_client_id": FakeCrmServer.SF_CLIENT_ID,
                "client_secret": FakeCrmServer.SF_CLIENT_SECRET,
            },
            "webhook": {
                "base_url": self.crm.webhook_url,
                "webhook_secret": FakeCrmServer.WEBHOOK_SECRET,
            },
            "odoo": {},
        }[backend_type]
        return self.env["crm.sync.backend"].create(
            {
                "name": f"{backend_type} {len(self.env['crm.sync.backend'].search([]))}",
                "backend_type": backend_type,
                "company_id": self.company.id,
                "rate_limit": 1000,
                "timeout": 2,
                **defaults,
                **values,
            }
        )

    def add_usage(self, tenant, quantity, when=None):
        """Accepted usage, written like ingestion does (SQL, no ORM create)."""
        when = when or fields.Datetime.now() - timedelta(seconds=1)
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO usage_event_data (event_id, company_id, tenant_ref, tenant_id,
                metric_code, metric_id, quantity, occurred_at, received_at, state, accepted_xid,
                create_uid, write_uid, create_date, write_date)
            VALUES (gen_random_uuid()::text, %s, %s, %s, %s, %s, %s, %s, now(), 'accepted',
                    pg_current_xact_id(), 1, 1, now(), now())
            """,
            [
                tenant.company_id.id,
                tenant.external_id,
                tenant.id,
                self.metric.code,
                self.metric.id,
                quantity,
                when,
            ],
        )
