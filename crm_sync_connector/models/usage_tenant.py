from odoo import fields, models
from odoo.tools import SQL, float_round

from ..core.account_status import build_account_status
from ..core.collection_alerts import collection_alert
from ..core.thresholds import credit_alert_text

#: The newest posted customer invoice of each (commercial partner, company).
LAST_INVOICES_SQL = """
SELECT DISTINCT ON (commercial_partner_id, company_id) id
  FROM account_move
 WHERE move_type = 'out_invoice' AND state = 'posted'
   AND commercial_partner_id = ANY(%s) AND company_id = ANY(%s)
 ORDER BY commercial_partner_id, company_id, invoice_date DESC NULLS LAST, id DESC
"""


class UsageTenant(models.Model):
    _inherit = "usage.tenant"

    crm_sync_message_ids = fields.One2many("crm.sync.message", "tenant_id", readonly=True)

    # ------------------------------------------------------------------ data

    def _crm_subscriptions(self):
        """``{tenant: subscription}``: the open one, else the latest (a few queries in all)."""
        found = {}
        subscriptions = self.env["usage.subscription"].search(
            [("tenant_id", "in", self.ids)], order="id desc"
        )
        for sub in subscriptions.sorted(lambda s: s.state == "cancelled"):
            found.setdefault(sub.tenant_id, sub)
        return found

    def _crm_invoice_facts(self):
        """``{(commercial partner id, company id): (last posted invoice, overdue amount)}``."""
        partners = self.partner_id.commercial_partner_id
        self.env["account.move"].flush_model()
        self.env.cr.execute(SQL(LAST_INVOICES_SQL, partners.ids, self.company_id.ids))
        moves = self.env["account.move"].browse([row[0] for row in self.env.cr.fetchall()])
        last = {(m.commercial_partner_id.id, m.company_id.id): m for m in moves}
        overdue = {
            (partner.id, company.id): amount
            for partner, company, amount in self.env["account.move"]._read_group(
                [
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("invoice_date_due", "<", fields.Date.context_today(self)),
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "in", self.company_id.ids),
                ],
                ["commercial_partner_id", "company_id"],
                ["amount_residual:sum"],
            )
        }
        keys = set(last) | set(overdue)
        return {key: (last.get(key), overdue.get(key, 0.0)) for key in keys}

    def _crm_status_data(self):
        """``{tenant id: plain data}`` for ``core.account_status.build_account_status``.

        A constant number of queries for any number of tenants: the daily refresh
        of thousands of tenants computes their statuses a batch at a time.
        """
        now = fields.Datetime.now()
        subscriptions = self._crm_subscriptions()
        windows = {}
        for tenant, sub in subscriptions.items():
            start, end = sub.current_period_start, sub.current_period_end
            windows[tenant] = (start, end, start - (end - start))
        usage = self.env["usage.event"]._aggregate(
            [(t.id, s, e) for t, (s, e, _p) in windows.items()]
            + [(t.id, p, s) for t, (s, _e, p) in windows.items()]
        )
        invoices = self._crm_invoice_facts()
        credit = self._credit_summary()
        statuses = {}
        for tenant in self:
            data = {
                "tenant": tenant.external_id,
                "name": tenant.partner_id.commercial_partner_id.name,
                "currency": tenant.currency_id.name,
                "now": now,
                "metrics": [],
            }
            sub = subscriptions.get(tenant)
            if sub:
                start, end, previous = windows[tenant]
                data.update(
                    plan=sub.plan_id.code,
                    plan_name=sub.plan_id.name,
                    subscription_state=sub.state,
                    mrr=float_round(sub.mrr, 2),
                    period_start=start,
                    period_end=end,
                    metrics=[
                        {
                            "code": charge.metric_id.code,
                            "used": usage.get((tenant.id, start, charge.metric_id.id), 0),
                            "included": charge.included_quantity,
                            "previous": usage.get((tenant.id, previous, charge.metric_id.id)),
                        }
                        for charge in sub.plan_id.charge_ids
                    ],
                )
            key = (tenant.partner_id.commercial_partner_id.id, tenant.company_id.id)
            last, overdue = invoices.get(key, (None, 0.0))
            if last:
                data["last_invoice"] = {
                    "number": last.name,
                    "amount": last.amount_total,
                    "state": last.state,
                    "payment_state": last.payment_state,
                    "date": last.invoice_date,
                }
            data["overdue_amount"] = float_round(overdue, 2)
            balance, expiries = credit.get(tenant.id, (0, []))
            data["credit_balance"] = balance
            data["credit_next_expiry"] = expiries[0][0] if expiries else None
            statuses[tenant.id] = data
        return statuses

    def _crm_account_statuses(self):
        """``{tenant id: account status}`` (our keys), computed now for every tenant of self."""
        return {tid: build_account_status(data) for tid, data in self._crm_status_data().items()}

    # ------------------------------------------------------------------ triggers

    def _crm_sync_notify(self, kind="update", payload=None, dedup_key=""):
        """Outbox write for every active backend of each tenant's company (one statement)."""
        # sudo: the change that triggers a sync (an invoice posted by an accountant,
        # a subscription event) is made by users without CRM Sync rights; the
        # outbox row is technical and the backends are looked up, never exposed.
        backends = (
            self.env["crm.sync.backend"].sudo().search([("company_id", "in", self.company_id.ids)])
        )
        return (
            self.env["crm.sync.message"]
            .sudo()
            ._enqueue(backends, self.sudo(), kind, payload, dedup_key)
        )

    def _usage_dispatch(self, event):
        """Product events that need someone to act also raise a CRM alert."""
        deliveries = super()._usage_dispatch(event)
        text = collection_alert(event["type"], self.external_id, event["data"])
        if text:
            payload = {
                "type": event["type"],
                "event_id": event["id"],
                "subject": text[0],
                "body": text[1],
                "data": event["data"],
            }
            self._crm_sync_notify("alert", payload, dedup_key=event["id"])
        return deliveries

    def _notify_credits_low_balance(self, balance):
        """Once per crossing (``usage_billing_connector``): an alert for the salesperson."""
        payload = super()._notify_credits_low_balance(balance)
        subject, body = credit_alert_text(
            self.external_id, payload["balance"], payload["threshold"], payload["currency"]
        )
        # One pending alert per tenant: a second crossing before delivery merges into it.
        self._crm_sync_notify("alert", dict(payload, subject=subject, body=body), payload["type"])
        return payload
