from datetime import timezone

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import periods

STATES = [
    ("trial", "Trial"),
    ("active", "Active"),
    ("suspended", "Suspended"),
    ("cancelled", "Cancelled"),
]
# The recurring fee runs only while active: a trial, a suspension and a
# cancellation stop it (prorated by the second).  Usage is rated in every state
# in which it is accepted.
FEE_STATES = ("active",)

# Touching the row makes a concurrent billing run of the same subscription wait,
# then fail with a serialization error (and be retried) instead of racing; the
# UNIQUE(subscription_id, period_start) constraint of statements is the last guard.
LOCK_FOR_BILLING_SQL = (
    "UPDATE usage_subscription SET write_date = now() at time zone 'UTC' WHERE id = %s"
)


def as_utc(value):
    return value.replace(tzinfo=timezone.utc) if value else value


class UsageSubscription(models.Model):
    _name = "usage.subscription"
    _description = "Usage Subscription"
    _inherit = ["mail.thread"]
    _order = "tenant_id, id desc"
    _check_company_auto = True

    tenant_id = fields.Many2one(
        "usage.tenant", required=True, index=True, tracking=True, check_company=True
    )
    partner_id = fields.Many2one(related="tenant_id.partner_id", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    plan_id = fields.Many2one("usage.plan", required=True, tracking=True, check_company=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    seats = fields.Integer(required=True, default=1, tracking=True)
    start_date = fields.Datetime(required=True, default=fields.Datetime.now, tracking=True)
    billing_anchor = fields.Datetime(
        required=True,
        default=lambda self: fields.Datetime.now().replace(
            hour=0, minute=0, second=0, microsecond=0
        ),
        help="Start of the first billing period; later periods start on the same day.",
    )
    anchor_day = fields.Integer(compute="_compute_anchor_day")
    state = fields.Selection(STATES, required=True, default="active", tracking=True)
    cancelled_at = fields.Datetime(readonly=True, tracking=True)
    change_ids = fields.One2many("usage.subscription.change", "subscription_id", readonly=True)
    statement_ids = fields.One2many("usage.statement", "subscription_id", readonly=True)
    current_period_start = fields.Datetime(compute="_compute_current_period")
    current_period_end = fields.Datetime(compute="_compute_current_period")
    mrr = fields.Monetary(
        string="MRR", compute="_compute_mrr", help="Recurring fee per month, at today's seats."
    )

    _one_open_subscription_per_tenant = models.UniqueIndex(
        "(tenant_id) WHERE state != 'cancelled'", "A tenant has at most one open subscription."
    )
    _seats_positive = models.Constraint("CHECK(seats >= 0)", "Seats cannot be negative.")

    @api.depends("tenant_id", "plan_id")
    def _compute_display_name(self):
        for sub in self:
            sub.display_name = f"{sub.tenant_id.external_id} / {sub.plan_id.code}"

    @api.depends("billing_anchor")
    def _compute_anchor_day(self):
        for sub in self:
            sub.anchor_day = sub.billing_anchor.day if sub.billing_anchor else 0

    @api.depends("billing_anchor", "plan_id.billing_interval")
    def _compute_current_period(self):
        now = as_utc(fields.Datetime.now())
        for sub in self:
            period = sub._period_containing(now)
            sub.current_period_start = period.start.replace(tzinfo=None)
            sub.current_period_end = period.end.replace(tzinfo=None)

    @api.depends("seats", "plan_id.fee_unit_price", "plan_id.billing_interval", "state")
    def _compute_mrr(self):
        for sub in self:
            months = periods.interval_months(sub.plan_id.billing_interval or "monthly")
            active = sub.state in FEE_STATES
            sub.mrr = sub.seats * sub.plan_id.fee_unit_price / months if active else 0.0

    def _period_containing(self, moment):
        self.ensure_one()
        return periods.period_containing(
            moment, self.plan_id.billing_interval, as_utc(self.billing_anchor)
        )

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        for sub in subscriptions:
            if not self.env.context.get("usage_subscription_no_initial_change"):
                sub._record_change("activated", sub.start_date)
        return subscriptions

    @api.model
    def _activate(self, tenant, plan, seats, effective_at, **trace):
        anchor = effective_at.replace(hour=0, minute=0, second=0, microsecond=0)
        subscription = self.with_context(usage_subscription_no_initial_change=True).create(
            {
                "tenant_id": tenant.id,
                "company_id": tenant.company_id.id,
                "plan_id": plan.id,
                "seats": 1 if seats is None else seats,
                "start_date": effective_at,
                "billing_anchor": anchor,
                "state": "active",
            }
        )
        subscription._record_change("activated", effective_at, **trace)
        return subscription

    def _record_change(
        self, change_type, effective_at, event_id=None, payload_hash=None, request_id=None
    ):
        """Append the state in force from ``effective_at`` to the history used for proration."""
        self.ensure_one()
        return self.env["usage.subscription.change"].create(
            {
                "subscription_id": self.id,
                "company_id": self.company_id.id,
                "change_type": change_type,
                "effective_at": effective_at,
                "plan_id": self.plan_id.id,
                "seats": self.seats,
                "state": self.state,
                "event_id": event_id,
                "payload_hash": payload_hash,
                "request_id": request_id,
            }
        )

    def _apply_change(self, change_type, effective_at, plan=None, seats=None, **event):
        """One lifecycle transition, recorded for proration; used by the API and the UI."""
        self.ensure_one()
        values = {}
        if change_type == "plan_changed":
            values["plan_id"] = plan.id
        if seats is not None and change_type in ("seats_changed", "plan_changed", "activated"):
            values["seats"] = seats
        if change_type == "suspended":
            values["state"] = "suspended"
        elif change_type in ("reactivated", "activated"):
            values["state"] = "active"
        elif change_type == "cancelled":
            values.update(state="cancelled", cancelled_at=effective_at)
        if self.state == "cancelled" and change_type != "activated":
            raise UserError(_("Subscription %s is cancelled.", self.display_name))
        self.write(values)
        return self._record_change(change_type, effective_at, **event)

    def _state_changes(self):
        """(effective_at, seats, unit_price, active) history for ``periods.proration_segments``."""
        self.ensure_one()
        return [
            periods.StateChange(
                as_utc(change.effective_at),
                change.seats,
                change.plan_id.fee_unit_price,
                change.state in FEE_STATES,
            )
            for change in self.change_ids.sorted(lambda c: (c.effective_at, c.id))
        ]

    # ---------------------------------------------------------------- billing

    def _due_periods(self, now):
        """Ended periods of this subscription that have no statement yet."""
        self.ensure_one()
        stated = {as_utc(start) for start in self.statement_ids.mapped("period_start")}
        started = as_utc(self.start_date)
        ended = as_utc(self.cancelled_at) if self.state == "cancelled" else None
        return [
            period
            for period in periods.periods_between(
                as_utc(self.billing_anchor), self.plan_id.billing_interval, now
            )
            if period.start not in stated
            and period.end > started
            and (ended is None or period.start < ended)
        ]

    def _close_due_periods(self):
        """Job: close every due period of one subscription, oldest first."""
        self.ensure_one()
        # sudo: started by the billing cron or an administrator's button, the job
        # writes the statement, its lines and the event links of the
        # subscription's own company, whichever company the runner is in.
        self = self.sudo().with_company(self.company_id)
        self.env.cr.execute(LOCK_FOR_BILLING_SQL, [self.id])
        self.invalidate_recordset()
        run = self.env["usage.billing.run"]
        now = run._now()
        return [run._close_period(self, period) for period in self._due_periods(now)]

    def action_run_billing(self):
        """Button: close the due periods of the selected subscriptions now."""
        statements = self.env["usage.statement"]
        for subscription in self:
            for statement in subscription._close_due_periods():
                statements |= statement
        return {
            "type": "ir.actions.act_window",
            "name": _("Statements"),
            "res_model": "usage.statement",
            "view_mode": "list,form",
            "domain": [("id", "in", statements.ids)],
        }

    def action_suspend(self):
        for sub in self:
            sub._apply_change("suspended", fields.Datetime.now())

    def action_reactivate(self):
        for sub in self:
            sub._apply_change("reactivated", fields.Datetime.now())

    def action_cancel(self):
        for sub in self:
            sub._apply_change("cancelled", fields.Datetime.now())
