import logging

from odoo import fields, models

from ..core import credits
from ..core.numbers import to_decimal

_logger = logging.getLogger(__name__)


class UsageTenant(models.Model):
    """A tenant's prepaid credit: balance, coming expiries and the low-balance notice."""

    _inherit = "usage.tenant"  # pylint: disable=consider-merging-classes-inherited

    credit_grant_ids = fields.One2many("usage.credit.grant", "tenant_id", string="Credits")
    credit_balance = fields.Monetary(
        string="Credit balance",
        compute="_compute_credit_balance",
        help="Prepaid credit that can pay usage today.",
    )
    credit_expiries = fields.Char(string="Upcoming expiries", compute="_compute_credit_balance")
    credit_low_threshold = fields.Monetary(
        string="Low balance threshold",
        tracking=True,
        help="When the balance falls below it, the customer's CRM gets an alert "
        "(and the product a credits.low_balance event), once per crossing.",
    )
    credit_low_notified = fields.Boolean(
        readonly=True, copy=False, help="Below the threshold and already notified."
    )

    def _credit_grants_available(self):
        # sudo: balances are shown to every billing user; grants hold no secret.
        return (
            self.env["usage.credit.grant"]
            .sudo()
            .search(
                [("tenant_id", "in", self.ids), ("state", "=", "active"), ("remaining", ">", 0)]
            )
        )

    def _credit_summary(self, today=None):
        """``{tenant id: (balance, [(expiry date, amount)])}`` available ``today`` (a date;
        the user's today by default)."""
        today = today or fields.Date.context_today(self)
        by_tenant = self._credit_grants_available().grouped("tenant_id")
        summary = {}
        for tenant in self:
            grants = by_tenant.get(tenant, self.env["usage.credit.grant"])._to_core()
            summary[tenant.id] = (
                credits.balance(grants, today),
                credits.upcoming_expiries(grants, today),
            )
        return summary

    def _compute_credit_balance(self):
        summary = self._credit_summary()
        for tenant in self:
            balance, expiries = summary.get(tenant.id, (0, []))
            tenant.credit_balance = float(balance)
            tenant.credit_expiries = ", ".join(
                f"{tenant.currency_id.format(float(amount))} on {day}" for day, amount in expiries
            )

    def _check_credit_low_balance(self):
        """Notify once when the balance crosses below the threshold; re-arm above it.

        The flag flips with a conditional UPDATE: two billing jobs crossing the
        line at the same time notify once.
        """
        for tenant in self.sudo():  # sudo: the flag is technical, set for any billing user
            balance = tenant._credit_summary()[tenant.id][0]
            transition = credits.low_balance_transition(
                to_decimal(tenant.credit_low_threshold or 0), balance, tenant.credit_low_notified
            )
            if transition is None:
                continue
            notify = transition == credits.NOTIFY
            self.env.cr.execute(
                "UPDATE usage_tenant SET credit_low_notified = %s "
                "WHERE id = %s AND credit_low_notified IS DISTINCT FROM %s RETURNING id",
                [notify, tenant.id, notify],
            )
            changed = self.env.cr.fetchone()
            tenant.invalidate_recordset(["credit_low_notified"])
            if changed and notify:
                tenant._notify_credits_low_balance(balance)

    def _notify_credits_low_balance(self, balance):
        """Extension point, called once per crossing below the low-balance threshold.

        Here: a note on the tenant and the product webhook ``credits.low_balance``;
        ``crm_sync_connector`` queues its CRM alert by extending it.
        """
        self.ensure_one()
        _logger.info("Tenant %s: prepaid credit low (%s)", self.external_id, balance)
        self.message_post(
            body=self.env._(
                "Prepaid credit balance %(balance)s is below the threshold %(threshold)s.",
                balance=self.currency_id.format(float(balance)),
                threshold=self.currency_id.format(self.credit_low_threshold),
            )
        )
        payload = self._credits_low_balance_payload(balance)
        data = {k: v for k, v in payload.items() if k not in ("type", "tenant")}
        self._usage_notify(payload["type"], data)
        return payload

    def _credits_low_balance_payload(self, balance):
        """The ``credits.low_balance`` event body, shared by the CRM alert and webhooks."""
        self.ensure_one()
        decimals = self.currency_id.decimal_places
        quantum = to_decimal(1).scaleb(-decimals)
        return {
            "type": "credits.low_balance",
            "tenant": self.external_id,
            "currency": self.currency_id.name,
            "balance": str(to_decimal(balance).quantize(quantum)),
            "threshold": str(to_decimal(self.credit_low_threshold).quantize(quantum)),
        }

    def action_buy_credits(self):
        return self._credit_grant_action("purchased")

    def action_grant_credits(self):
        return self._credit_grant_action("granted")

    def _credit_grant_action(self, kind):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "usage.credit.grant",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_tenant_id": self.id,
                "default_company_id": self.company_id.id,
                "default_kind": kind,
            },
        }
