import logging

from odoo import api, fields, models

from ..core import periods, statement_lines, subscription_history, utc
from ..exceptions import SubscriptionChangeError
from .usage_subscription import FEE_STATES, REQUESTED_STATES, write_values

_logger = logging.getLogger(__name__)


class UsageSubscription(models.Model):
    """A subscription's lifecycle: changes placed in its history by ``effective_at``.

    Plan, seats, state and cancellation are never written directly: a change is
    recorded (from the API or the UI), the history is replayed in effective order
    (``core.subscription_history``) and the subscription takes the state after its
    latest effective change.
    """

    _inherit = "usage.subscription"

    @api.model
    def _in_force(self, tenant, moment):
        """The subscription of ``tenant`` in force at ``moment`` (started, not yet cancelled)."""
        # search_fetch: its fields come with the search (the read API reads them next)
        return self.search_fetch(
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
                    change.write(write_values(stale))
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
                sub.with_context(usage_history_replay=True).write(write_values(stale))
        self._update_next_close_at()

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
                "no_subscription", self.env._("Subscription %s is cancelled.", self.display_name)
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
        subscriptions = self.with_context(active_test=False).search([])  # pylint: disable=no-search-all
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

    def _period_commitment(self, period):
        """``(amount, breakdown, plan)``: the minimum spend of ``period``, prorated.

        Each stretch of the period has the commitment in force then: the
        subscription's own, else its plan's (the plan version of that stretch),
        while active, like the recurring fee (``statement_lines.period_commitment``).
        ``plan`` is the latest plan of the period with a commitment product: the
        true-up is invoiced with that product.
        """
        self.ensure_one()
        history = self.change_ids.sorted(lambda c: (c.effective_at, c.id))
        changes = [
            (
                utc.aware(change.effective_at),
                self.commitment_amount or change.plan_id.commitment_amount or 0,
                change.state in FEE_STATES,
            )
            for change in history
        ]
        amount, breakdown = statement_lines.period_commitment(
            period, changes, self.tenant_id.currency_id.decimal_places
        )
        in_period = history.filtered(lambda c: utc.aware(c.effective_at) < period.end)
        committing = in_period.plan_id.filtered("commitment_product_id")
        plan = in_period.filtered(lambda c: c.plan_id in committing)[-1:].plan_id
        return amount, breakdown, plan or self.plan_id

    def _state_changes(self):
        """(effective_at, seats, unit_price, active) history for ``periods.proration_segments``."""
        self.ensure_one()
        return [
            periods.StateChange(
                utc.aware(change.effective_at),
                change.seats,
                change.plan_id.fee_unit_price,
                change.state in FEE_STATES,
            )
            for change in self.change_ids.sorted(lambda c: (c.effective_at, c.id))
        ]
