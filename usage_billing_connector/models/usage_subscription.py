import logging
from datetime import timezone

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import periods, subscription_history
from ..exceptions import SubscriptionChangeError

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

#: The state each type of change asks for (plan and seat changes leave it alone).
REQUESTED_STATES = {
    "activated": "active",
    "suspended": "suspended",
    "reactivated": "active",
    "cancelled": "cancelled",
}

# Touching the row makes a concurrent billing run of the same subscription wait,
# then fail with a serialization error (and be retried) instead of racing; the
# UNIQUE(subscription_id, period_start) constraint of statements is the last guard.
LOCK_FOR_BILLING_SQL = (
    "UPDATE usage_subscription SET write_date = now() at time zone 'UTC' WHERE id = %s"
)


#: Fields that follow the change history: written only by its replay.
HISTORY_FIELDS = ("plan_id", "seats", "state", "cancelled_at")


def as_utc(value):
    return value.replace(tzinfo=timezone.utc) if value else value


def _ids(values):
    """ORM write values from record values (records become their id)."""
    return {
        name: value.id if isinstance(value, models.BaseModel) else value
        for name, value in values.items()
    }


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
    currency_mismatch = fields.Boolean(
        compute="_compute_currency_mismatch",
        store=True,
        help="The plan is priced in another currency than the tenant's: the subscription is "
        "not billed until it is moved to a price list in the tenant's currency.",
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

    @api.depends("plan_id.currency_id", "tenant_id.currency_id")
    def _compute_currency_mismatch(self):
        for sub in self:
            sub.currency_mismatch = sub.plan_id.currency_id != sub.tenant_id.currency_id

    @api.constrains("plan_id", "tenant_id")
    def _check_currency(self):
        for sub in self:
            if sub.plan_id.currency_id != sub.tenant_id.currency_id:
                raise ValidationError(sub._currency_mismatch_message(sub.plan_id))

    def _currency_mismatch_message(self, plan):
        return _(
            "Plan %(plan)s is priced in %(plan_currency)s but tenant %(tenant)s is billed in "
            "%(currency)s: add a price list of the plan in %(currency)s.",
            plan=plan.display_name,
            plan_currency=plan.currency_id.name,
            tenant=self.tenant_id.external_id,
            currency=self.tenant_id.currency_id.name,
        )

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
                sub._record_change(
                    "activated", sub.start_date, plan=sub.plan_id, seats=sub.seats, state=sub.state
                )
        return subscriptions

    def write(self, vals):
        if set(HISTORY_FIELDS) & set(vals) and not self.env.context.get("usage_history_replay"):
            raise UserError(
                _("Plan, seats and state follow the subscription's history: record a change.")
            )
        return super().write(vals)

    @api.model
    def _in_force(self, tenant, moment):
        """The subscription of ``tenant`` in force at ``moment`` (started, not yet cancelled)."""
        return self.search(
            [
                ("tenant_id", "=", tenant.id),
                ("start_date", "<=", moment),
                "|",
                ("cancelled_at", "=", False),
                ("cancelled_at", ">", moment),
            ],
            order="start_date desc, id desc",
            limit=1,
        )

    @api.model
    def _activate(self, tenant, plan, seats, effective_at, **trace):
        """A new subscription from ``effective_at``; refused while another one is open."""
        overlapping = self.search(
            [
                ("tenant_id", "=", tenant.id),
                "|",
                ("cancelled_at", "=", False),
                ("cancelled_at", ">", effective_at),
            ],
            limit=1,
        )
        if overlapping:
            raise SubscriptionChangeError(
                "subscription_exists", "The tenant already has a subscription."
            )
        if plan.currency_id != tenant.currency_id:
            raise SubscriptionChangeError(
                "currency_mismatch",
                self.new({"tenant_id": tenant.id})._currency_mismatch_message(plan),
            )
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
        subscription._record_change(
            "activated", effective_at, plan=plan, seats=seats, state="active", **trace
        )
        return subscription

    def _record_change(self, change_type, effective_at, plan=None, seats=None, state=None, **trace):
        """Append a change to the history (what it asks for); the replay fills the rest."""
        self.ensure_one()
        change = self.env["usage.subscription.change"].create(
            {
                "subscription_id": self.id,
                "company_id": self.company_id.id,
                "change_type": change_type,
                "effective_at": effective_at,
                "requested_plan_id": plan.id if plan else False,
                "requested_seats": seats or 0,
                "sets_seats": seats is not None,
                "requested_state": state,
                # In force after the change: corrected by the replay below.
                "plan_id": (plan or self.plan_id).id,
                "seats": self.seats if seats is None else seats,
                "state": state or self.state,
                **trace,
            }
        )
        self._replay_history()
        return change

    def _replay_history(self):
        """Write the state in force after each change, and the current one on the subscription."""
        for sub in self:
            changes = sub.change_ids
            state = None
            for step, state in subscription_history.replay(changes._as_history()):
                change = changes.browse(step.sequence)
                in_force = {"plan_id": state.plan, "seats": state.seats, "state": state.state}
                stale = {name: value for name, value in in_force.items() if change[name] != value}
                if stale:
                    change.write(_ids(stale))
            if state is None:
                continue
            current = {
                "plan_id": state.plan,
                "seats": state.seats,
                "state": state.state,
                "cancelled_at": state.cancelled_at or False,
            }
            stale = {name: value for name, value in current.items() if sub[name] != value}
            if stale:
                sub.with_context(usage_history_replay=True).write(_ids(stale))

    def _apply_change(self, change_type, effective_at, plan=None, seats=None, **trace):
        """One lifecycle change, placed in the history by its ``effective_at``.

        Used by the API and the UI.  Refused before the subscription starts, after
        it is cancelled, inside a period that already has a statement, and for a
        plan priced in another currency than the tenant's.
        """
        self.ensure_one()
        effective_at = fields.Datetime.to_datetime(effective_at)
        if effective_at < self.start_date:
            raise SubscriptionChangeError(
                "before_activation", "effective_at is before the subscription started."
            )
        if self.cancelled_at and effective_at >= self.cancelled_at and change_type != "cancelled":
            raise SubscriptionChangeError(
                "no_subscription", _("Subscription %s is cancelled.", self.display_name)
            )
        if self.statement_ids.filtered(lambda s: s.period_end > effective_at):
            raise SubscriptionChangeError(
                "period_closed", "effective_at falls in a period that already has a statement."
            )
        if change_type == "plan_changed" and plan.currency_id != self.tenant_id.currency_id:
            raise SubscriptionChangeError(
                "currency_mismatch", self._currency_mismatch_message(plan)
            )
        return self._record_change(
            change_type,
            effective_at,
            plan=plan if change_type in ("plan_changed", "activated") else None,
            seats=seats if change_type in ("seats_changed", "plan_changed", "activated") else None,
            state=REQUESTED_STATES.get(change_type),
            **trace,
        )

    @api.model
    def _migrate_history_requests(self):
        """Upgrade from 19.0.1.0.0: derive what each change asked for, then replay.

        Before, each change stored only the state in force after it, in the order
        changes were *received*.  Walking each history in that order, a change
        asked for whatever differs from the state before it (plus, always, the
        plan and seats of an activation and the seats of a seat change).
        Subscriptions whose plan is priced in another currency than the tenant's
        are reported in the log, never converted.
        """
        _logger = logging.getLogger(__name__)
        subscriptions = self.with_context(active_test=False).search([])
        for sub in subscriptions:
            before = None
            for change in sub.change_ids.sorted("id"):
                kind = change.change_type
                plan_changed = before is None or before.plan_id != change.plan_id
                seats_changed = before is None or before.seats != change.seats
                change.write(
                    {
                        "requested_plan_id": change.plan_id.id
                        if kind == "activated" or (kind == "plan_changed" and plan_changed)
                        else False,
                        "sets_seats": kind in ("activated", "seats_changed")
                        or (kind == "plan_changed" and seats_changed),
                        "requested_seats": change.seats,
                        "requested_state": change.state
                        if kind == "activated"
                        else REQUESTED_STATES.get(kind),
                    }
                )
                before = change
        subscriptions._replay_history()
        for sub in subscriptions.filtered("currency_mismatch"):
            _logger.warning(
                "Usage subscription %s: %s",
                sub.display_name,
                sub._currency_mismatch_message(sub.plan_id),
            )
        return subscriptions

    def _switch_plan_version(self, plan):
        """Move to another version of the plan from the first period without a statement.

        Statements already written keep the prices they were rated with; every
        period still open is rated with ``plan``.
        """
        for sub in self:
            open_from = max(sub.statement_ids.mapped("period_end"), default=sub.billing_anchor)
            effective_at = max(open_from, sub.start_date)
            if sub.cancelled_at and effective_at >= sub.cancelled_at:
                continue  # every period it was in force has been stated
            sub._apply_change("plan_changed", effective_at, plan=plan)

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
        if self.currency_mismatch:
            # Reported, never converted: the job fails visibly until it is fixed.
            raise UserError(self._currency_mismatch_message(self.plan_id))
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

    def action_change(self):
        """Button: the wizard that records a plan or seat change."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Change plan or seats"),
            "res_model": "usage.subscription.change.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
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
