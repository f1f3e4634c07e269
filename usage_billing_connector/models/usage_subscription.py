from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import periods, utc
from ..utils.display import period_labeler

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
    "UPDATE usage_subscription SET write_date = now() at time zone 'UTC' WHERE id = ANY(%s)"
)


#: Fields that follow the change history: written only by its replay.
HISTORY_FIELDS = ("plan_id", "seats", "state", "cancelled_at")


def write_values(values):
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
    current_period_label = fields.Char(string="Current period", compute="_compute_current_period")
    commitment_amount = fields.Monetary(
        string="Minimum spend per period",
        tracking=True,
        help="This customer's commitment; empty: the plan's minimum spend. A change applies "
        "to the periods not yet stated.",
    )
    mrr = fields.Monetary(
        string="MRR", compute="_compute_mrr", help="Recurring fee per month, at today's seats."
    )
    next_close_at = fields.Datetime(
        readonly=True,
        index=True,
        copy=False,
        help="End of the first billing period without a statement: the billing run closes "
        "it once this moment has passed (empty: nothing left to bill).",
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
        now = utc.aware(fields.Datetime.now())
        label = period_labeler(self.env)
        for sub in self:
            period = sub._period_containing(now)
            sub.current_period_start = period.start.replace(tzinfo=None)
            sub.current_period_end = period.end.replace(tzinfo=None)
            sub.current_period_label = label(sub.current_period_start, sub.current_period_end)

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
        return self.env._(
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
            moment, self.plan_id.billing_interval, utc.aware(self.billing_anchor)
        )

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        for sub in subscriptions:
            if not self.env.context.get("usage_subscription_no_initial_change"):
                sub._record_change(
                    "activated", sub.start_date, plan=sub.plan_id, seats=sub.seats, state=sub.state
                )
        subscriptions._update_next_close_at()
        return subscriptions

    def write(self, vals):
        if set(HISTORY_FIELDS) & set(vals) and not self.env.context.get("usage_history_replay"):
            raise UserError(
                self.env._(
                    "Plan, seats and state follow the subscription's history: record a change."
                )
            )
        return super().write(vals)

    # ---------------------------------------------------------------- billing

    def _due_periods(self, now):
        """Ended periods of this subscription that have no statement yet."""
        self.ensure_one()
        stated = {utc.aware(start) for start in self.statement_ids.mapped("period_start")}
        started = utc.aware(self.start_date)
        ended = utc.aware(self.cancelled_at) if self.state == "cancelled" else None
        return [
            period
            for period in periods.periods_between(
                utc.aware(self.billing_anchor), self.plan_id.billing_interval, now
            )
            if period.start not in stated
            and period.end > started
            and (ended is None or period.start < ended)
        ]

    def _lock_for_billing(self):
        """Serialize closings of these subscriptions (see ``LOCK_FOR_BILLING_SQL``)."""
        self.env.cr.execute(LOCK_FOR_BILLING_SQL, [self.ids])
        self.invalidate_recordset()

    def _next_close_at(self, stated=None):
        """End of the first period without a statement, or ``False`` when none is left."""
        self.ensure_one()
        if not (self.billing_anchor and self.plan_id and self.start_date):
            return False
        stated = stated if stated is not None else set(self.statement_ids.mapped("period_start"))
        started = utc.aware(self.start_date)
        ended = utc.aware(self.cancelled_at) if self.state == "cancelled" else None
        months = periods.interval_months(self.plan_id.billing_interval)
        anchor = utc.aware(self.billing_anchor)
        index = 0
        while True:
            period = periods.Period(
                periods.add_months(anchor, index * months),
                periods.add_months(anchor, (index + 1) * months),
            )
            if ended is not None and period.start >= ended:
                return False
            if period.end > started and utc.naive(period.start) not in stated:
                return utc.naive(period.end)
            index += 1

    def _update_next_close_at(self):
        """Store ``next_close_at`` after statements or the history changed (one UPDATE)."""
        self.flush_recordset()
        rows = self.env["usage.statement"]._read_group(
            [("subscription_id", "in", self.ids)], ["subscription_id"], ["period_start:array_agg"]
        )
        stated = {sub.id: set(starts) for sub, starts in rows}
        values = {sub.id: sub._next_close_at(stated.get(sub.id, set())) for sub in self}
        self.env.cr.execute(
            """
            UPDATE usage_subscription s SET next_close_at = v.at
              FROM unnest(%s::int[], %s::timestamp[]) AS v(id, at)
             WHERE s.id = v.id AND s.next_close_at IS DISTINCT FROM v.at
            """,
            [list(values), [at or None for at in values.values()]],
        )
        self.invalidate_recordset(["next_close_at"])

    def action_run_billing(self):
        """Button: close the due periods of the selected subscriptions now."""
        closing = self.env["usage.period.closing"]
        statements = self.env["usage.statement"]
        for subscription in self:
            for statement in closing._close_subscription(subscription):
                statements |= statement
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Statements"),
            "res_model": "usage.statement",
            "view_mode": "list,form",
            "domain": [("id", "in", statements.ids)],
        }

    def action_change(self):
        """Button: the wizard that records a plan or seat change."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change plan or seats"),
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

    @api.constrains("commitment_amount", "plan_id")
    def _check_commitment(self):
        for sub in self:
            if sub.commitment_amount < 0:
                raise ValidationError(self.env._("A commitment cannot be negative."))
            if sub.commitment_amount and not sub.plan_id.commitment_product_id:
                raise ValidationError(
                    self.env._(
                        "Set the commitment true-up product on plan %s first.",
                        sub.plan_id.display_name,
                    )
                )
