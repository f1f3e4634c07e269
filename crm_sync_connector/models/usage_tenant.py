from odoo import api, fields, models
from odoo.addons.usage_billing_connector.models.usage_metric import AGGREGATE_EXPRESSION
from odoo.tools import float_round

from ..core.account_status import build_account_status

#: Current-period usage per (tenant, metric) for a set of periods, in one statement.
#: Uses usage_event's (tenant_id, metric_id, occurred_at) index and the billing
#: run's own aggregate expression.
USAGE_SQL = f"""
WITH periods AS (
    SELECT * FROM unnest(%(tenant_ids)s::int[], %(starts)s::timestamp[], %(ends)s::timestamp[])
        AS p(tenant_id, period_start, period_end)
)
SELECT p.tenant_id, p.period_start, e.metric_id,
       {AGGREGATE_EXPRESSION}
  FROM periods p
  JOIN usage_event e
    ON e.tenant_id = p.tenant_id
   AND e.occurred_at >= p.period_start AND e.occurred_at < p.period_end
   AND e.state IN ('accepted', 'billed')
  JOIN usage_metric m ON m.id = e.metric_id
 GROUP BY p.tenant_id, p.period_start, e.metric_id, m.aggregation, m.unique_property
"""


class UsageTenant(models.Model):
    _inherit = "usage.tenant"

    crm_sync_message_ids = fields.One2many("crm.sync.message", "tenant_id", readonly=True)

    # ------------------------------------------------------------------ data

    @api.model
    def _crm_usage(self, periods):
        """``{(tenant id, period start, metric id): used}`` for ``[(tenant id, start, end)]``."""
        if not periods:
            return {}
        self.env["usage.event"].flush_model()
        self.env.cr.execute(
            USAGE_SQL,
            {
                "tenant_ids": [p[0] for p in periods],
                "starts": [p[1] for p in periods],
                "ends": [p[2] for p in periods],
            },
        )
        return {(t, start, m): used for t, start, m, used in self.env.cr.fetchall()}

    def _crm_subscription(self):
        self.ensure_one()
        subscriptions = self.env["usage.subscription"].search(
            [("tenant_id", "=", self.id)], order="id desc"
        )
        return subscriptions.filtered(lambda s: s.state != "cancelled")[:1] or subscriptions[:1]

    def _crm_invoices(self):
        self.ensure_one()
        return self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("commercial_partner_id", "=", self.partner_id.commercial_partner_id.id),
                ("company_id", "=", self.company_id.id),
            ],
            order="invoice_date desc, id desc",
        )

    def _crm_status_data(self):
        """Plain data for ``core.account_status.build_account_status``."""
        self.ensure_one()
        now = fields.Datetime.now()
        data = {
            "tenant": self.external_id,
            "name": self.partner_id.commercial_partner_id.name,
            "currency": self.currency_id.name,
            "now": now,
            "metrics": [],
        }
        subscription = self._crm_subscription()
        if subscription:
            start, end = subscription.current_period_start, subscription.current_period_end
            previous_start = start - (end - start)
            usage = self._crm_usage([(self.id, start, end), (self.id, previous_start, start)])
            data.update(
                plan=subscription.plan_id.code,
                plan_name=subscription.plan_id.name,
                subscription_state=subscription.state,
                mrr=float_round(subscription.mrr, 2),
                period_start=start,
                period_end=end,
                metrics=[
                    {
                        "code": charge.metric_id.code,
                        "used": usage.get((self.id, start, charge.metric_id.id), 0),
                        "included": charge.included_quantity,
                        "previous": usage.get((self.id, previous_start, charge.metric_id.id)),
                    }
                    for charge in subscription.plan_id.charge_ids
                ],
            )
        invoices = self._crm_invoices()
        if invoices:
            last = invoices[0]
            data["last_invoice"] = {
                "number": last.name,
                "amount": last.amount_total,
                "state": last.state,
                "payment_state": last.payment_state,
                "date": last.invoice_date,
            }
        today = fields.Date.context_today(self)
        overdue = invoices.filtered(
            lambda m: (
                m.invoice_date_due
                and m.invoice_date_due < today
                and m.payment_state in ("not_paid", "partial")
            )
        )
        data["overdue_amount"] = float_round(sum(overdue.mapped("amount_residual")), 2)
        return data

    def _crm_account_status(self):
        return build_account_status(self._crm_status_data())

    # ------------------------------------------------------------------ triggers

    def _crm_sync_notify(self, kind="update", payload=None, dedup_key=""):
        """Outbox write for every active backend of each tenant's company."""
        # sudo: the change that triggers a sync (an invoice posted by an accountant,
        # a subscription event) is made by users without CRM Sync rights; the
        # outbox row is technical and the backends are looked up, never exposed.
        backends = self.env["crm.sync.backend"].sudo().search([])
        messages = self.env["crm.sync.message"].sudo()
        for tenant in self:
            mine = backends.filtered(lambda b, t=tenant: b.company_id == t.company_id)
            messages |= messages._enqueue(mine, tenant.sudo(), kind, payload, dedup_key)
        return messages
