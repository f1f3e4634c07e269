from datetime import datetime

from odoo import Command, fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import UsageFixtures


class BillingCase(UsageFixtures, AccountTestInvoicingCommon):
    """A company with a chart of accounts, metrics, a plan builder and usage helpers."""

    @classmethod
    def get_default_groups(cls):
        # The accountant of the account tests who also administers usage billing.
        return super().get_default_groups() | cls.env.ref(
            "usage_billing_connector.group_usage_billing_manager"
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.env["ir.config_parameter"].set_param("usage_billing.require_approval", "True")
        cls.fee_product = cls._service("Seat")
        cls.calls = cls._metric("calls", "sum")
        cls.storage = cls._metric("storage", "max")
        cls.users = cls._metric("users", "unique_count", prop="user_id")
        cls.tenant = cls._make_tenant("t1", cls.partner_a)

    @classmethod
    def _service(cls, name, company=None):
        return cls.env["product.product"].create(
            {"name": name, "type": "service", "company_id": (company or cls.company).id}
        )

    @classmethod
    def _metric(cls, code, aggregation, company=None, prop=None):
        """A metric invoiced with its own product (tests give products their taxes)."""
        product = cls._service(f"{code} usage", company)
        return cls._make_metric(code, aggregation, prop, company=company, product=product)

    @classmethod
    def _plan(cls, code, charges, fee=0.0, timing="in_arrears", company=None, currency=None):
        company = company or cls.company
        return cls.env["usage.plan"].create(
            {
                "code": code,
                "name": code,
                "company_id": company.id,
                "currency_id": (currency or company.currency_id).id,
                "fee_product_id": cls.fee_product.id if fee else False,
                "fee_unit_price": fee,
                "fee_timing": timing,
                "charge_ids": [Command.create(charge) for charge in charges],
            }
        )

    @staticmethod
    def tiers(*pairs):
        return [
            Command.create({"up_to": up_to or 0, "unit_price": price}) for up_to, price in pairs
        ]

    def subscribe(self, plan, seats=1, start="2026-01-01 00:00:00", tenant=None, state="active"):
        return self.env["usage.subscription"].create(
            {
                "tenant_id": (tenant or self.tenant).id,
                "company_id": (tenant or self.tenant).company_id.id,
                "plan_id": plan.id,
                "seats": seats,
                "start_date": start,
                "billing_anchor": start[:10] + " 00:00:00",
                "state": state,
            }
        )

    _seq = 0

    def usage(self, metric, quantity, when="2026-01-15 12:00:00", tenant=None, **properties):
        BillingCase._seq += 1
        tenant = tenant or self.tenant
        # sudo: usage events are written by the ingestion API, never by users.
        return (
            self.env["usage.event"]
            .sudo()
            .create(
                {
                    "event_id": f"ev-{BillingCase._seq}",
                    "company_id": tenant.company_id.id,
                    "tenant_id": tenant.id,
                    "tenant_ref": tenant.external_id,
                    "metric_id": metric.id,
                    "metric_code": metric.code,
                    "quantity": quantity,
                    "occurred_at": when,
                    "received_at": fields.Datetime.now(),
                    "state": "accepted",
                    "properties": properties,
                }
            )
        )

    def close(self, subscription, now="2026-02-01 00:00:01"):
        """Run the billing of ``subscription`` as the cron's job would, at ``now``."""
        from odoo.tests import freeze_time  # noqa: PLC0415

        with freeze_time(datetime.fromisoformat(now)):
            self.env.flush_all()
            return self.env["usage.period.closing"]._close_subscription(subscription)

    def line(self, statement, metric=None, kind="usage"):
        lines = statement.line_ids.filtered(
            lambda line: line.kind == kind and (metric is None or line.metric_id == metric)
        )
        self.assertEqual(len(lines), 1, statement.line_ids.mapped("name"))
        return lines
