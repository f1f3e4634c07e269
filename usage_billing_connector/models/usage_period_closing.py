import logging
from datetime import datetime, timezone
from decimal import Decimal

from odoo import api, models
from odoo.exceptions import UserError

from ..core import periods, statement_lines, utc
from ..core.numbers import to_decimal
from ..core.pricing import PricingError
from ..utils.params import get_int_param

_logger = logging.getLogger(__name__)

LATE_PERIODS_SQL = """
SELECT DISTINCT s.period_start, s.period_end
  FROM usage_event e
  JOIN usage_statement s
    ON s.tenant_id = e.tenant_id AND s.state != 'rejected'
   AND e.occurred_at >= s.period_start AND e.occurred_at < s.period_end
 WHERE e.tenant_id = %(tenant_id)s AND e.state = 'accepted'
   AND e.occurred_at < %(before)s AND s.id != %(statement_id)s
"""


class UsagePeriodClosing(models.AbstractModel):
    """Closing billing periods into statements: the cron, its jobs and the rating.

    The one owner of "close a period": the cron finds subscriptions with an ended
    period and enqueues one job per subscription, the job closes its due periods
    oldest first, each into a statement with its lines.
    """

    _name = "usage.period.closing"
    _description = "Closing of Usage Billing Periods"

    # ------------------------------------------------------------ scheduling

    @api.model
    def _cron_close_due_periods(self):
        """Enqueue one job per subscription with a period to close, committing in batches."""
        due = self._due_subscriptions()
        batch_size = get_int_param(self.env, "billing_batch_size")
        cron = self.env["ir.cron"]
        for start in range(0, len(due), batch_size):
            batch = due[start : start + batch_size]
            self._enqueue_closing_jobs(batch)
            if not cron._commit_progress(len(batch), remaining=len(due) - start - len(batch)):
                break
        return len(due)

    @api.model
    def _due_subscriptions(self):
        """(subscription, first period to close) for every subscription with one due."""
        now = self._now()
        # sudo: the billing cron closes the periods of every company, whatever
        # companies the cron's user happens to be allowed in.
        due, mismatched = [], []
        for subscription in self.env["usage.subscription"].sudo().search([], order="id"):
            periods_due = subscription._due_periods(now)
            if periods_due and subscription.currency_mismatch:
                mismatched.append(subscription.display_name)
            elif periods_due:
                due.append((subscription, periods_due[0]))
        if mismatched:
            _logger.warning(
                "Not billed, plan and tenant currencies differ (filter 'Currency mismatch' on "
                "subscriptions): %s",
                ", ".join(mismatched),
            )
        return due

    @api.model
    def _enqueue_closing_jobs(self, due=None):
        """One job per subscription; the identity key skips one already pending."""
        for subscription, first in self._due_subscriptions() if due is None else due:
            self.with_delay(
                channel="root.usage_billing",
                identity_key=f"usage_billing:close:{subscription.id}:{first.start.isoformat()}",
                description=f"Close billing periods of {subscription.display_name}",
            )._close_subscription(subscription)

    # ---------------------------------------------------------------- closing

    def _close_subscription(self, subscription):
        """Job: close every due period of one subscription, oldest first."""
        subscription.ensure_one()
        if subscription.currency_mismatch:
            # Reported, never converted: the job fails visibly until it is fixed.
            raise UserError(subscription._currency_mismatch_message(subscription.plan_id))
        # sudo: started by the billing cron or an administrator's button, the job
        # writes the statement, its lines and the event links of the
        # subscription's own company, whichever company the runner is in.
        subscription = subscription.sudo().with_company(subscription.company_id)
        closing = self.sudo().with_company(subscription.company_id)
        subscription._lock_for_billing()
        now = closing._now()
        return [
            closing._close_period(subscription, period) for period in subscription._due_periods(now)
        ]

    @api.model
    def _close_period(self, subscription, period):
        """Write the statement of one period; a no-op when it already exists."""
        statement_model = self.env["usage.statement"]
        start = utc.naive(period.start)
        existing = statement_model.search(
            [("subscription_id", "=", subscription.id), ("period_start", "=", start)]
        )
        if existing:
            return existing
        # A run writes thousands of statements: no "created" chatter message nor
        # follower per statement (half the cost of a close); approvals and
        # rejections are still tracked.
        statement = statement_model.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True
        ).create(
            {
                "subscription_id": subscription.id,
                "tenant_id": subscription.tenant_id.id,
                "partner_id": subscription.tenant_id.partner_id.id,
                "company_id": subscription.company_id.id,
                "currency_id": subscription.tenant_id.currency_id.id,
                "plan_id": subscription.plan_id.id,
                "period_start": start,
                "period_end": utc.naive(period.end),
            }
        )
        self._fill_statement(statement)
        if not statement_model._requires_approval():
            statement.action_approve()
        return statement

    @api.model
    def _fill_statement(self, statement):
        self.env.flush_all()  # aggregation and linking below are raw SQL
        subscription = statement.subscription_id
        period = periods.Period(utc.aware(statement.period_start), utc.aware(statement.period_end))
        decimals = statement.currency_id.decimal_places
        lines = self._usage_lines(statement, period, decimals)
        lines += self._late_usage_lines(statement, period, decimals)
        lines += self._fee_lines(statement, subscription, period, decimals)
        self._mark_billed(statement, period)
        self.env["usage.statement.line"].create(
            [self._line_values(statement, line, seq) for seq, line in enumerate(lines)]
        )

    def _aggregate(self, tenant, start, end, states):
        """``{metric_id: quantity}`` of one tenant over ``[start, end)``."""
        start, end = utc.naive(start), utc.naive(end)
        usage = self.env["usage.event"]._aggregate([(tenant.id, start, end)], states)
        return {metric_id: quantity for (_t, _s, metric_id), quantity in usage.items()}

    def _charges(self, plan):
        return {charge.metric_id: charge for charge in plan.charge_ids}

    def _usage_lines(self, statement, period, decimals):
        quantities = self._aggregate(statement.tenant_id, period.start, period.end, ["accepted"])
        lines = []
        for metric, charge in self._charges(statement.plan_id).items():
            quantity = quantities.pop(metric.id, Decimal(0))
            lines.append(
                statement_lines.usage_line(
                    metric, metric.name, charge._to_core(), quantity, decimals, period
                )
            )
        for metric in self.env["usage.metric"].browse(list(quantities)):
            # Usage of a metric the plan does not charge: shown, billed at zero.
            lines.append(
                statement_lines.Line(
                    "usage",
                    f"{metric.name}: {quantities[metric.id]} (not charged by the plan)",
                    Decimal(0),
                    quantity=quantities[metric.id],
                    billable=Decimal(0),
                    metric=metric,
                    period=period,
                )
            )
        return lines

    def _late_usage_lines(self, statement, period, decimals):
        """True-ups for usage that arrived after its period was stated."""
        self.env.cr.execute(
            LATE_PERIODS_SQL,
            {
                "tenant_id": statement.tenant_id.id,
                "before": utc.naive(period.start),
                "statement_id": statement.id,
            },
        )
        lines = []
        charges = self._charges(statement.plan_id)
        for start, end in self.env.cr.fetchall():
            late_period = periods.Period(utc.aware(start), utc.aware(end))
            totals = self._aggregate(
                statement.tenant_id, late_period.start, late_period.end, ["accepted", "billed"]
            )
            pending = self._aggregate(
                statement.tenant_id, late_period.start, late_period.end, ["accepted"]
            )
            for metric_id in pending:
                metric = self.env["usage.metric"].browse(metric_id)
                charge = charges.get(metric)
                if not charge:
                    continue
                billed = self._billed_amount(statement.tenant_id, metric, start)
                lines.append(
                    statement_lines.late_usage_line(
                        metric,
                        metric.name,
                        charge._to_core(),
                        totals[metric_id],
                        billed,
                        decimals,
                        late_period,
                    )
                )
        return lines

    def _billed_amount(self, tenant, metric, period_start):
        lines = self.env["usage.statement.line"].search(
            [
                ("statement_id.tenant_id", "=", tenant.id),
                ("statement_id.state", "!=", "rejected"),
                ("metric_id", "=", metric.id),
                ("period_start", "=", period_start),
                ("kind", "in", ("usage", "late_usage")),
            ]
        )
        return sum((to_decimal(line.amount) for line in lines), Decimal(0))

    def _fee_lines(self, statement, subscription, period, decimals):
        plan = statement.plan_id
        if not plan.fee_unit_price or not plan.fee_product_id:
            return []
        next_period = periods.next_period(
            period, plan.billing_interval, utc.aware(subscription.billing_anchor)
        )
        billed_ahead = Decimal(0)
        if plan.fee_timing == "in_advance":
            ahead = self.env["usage.statement.line"].search(
                [
                    ("statement_id.subscription_id", "=", subscription.id),
                    ("statement_id.state", "!=", "rejected"),
                    ("kind", "=", "fee"),
                    ("period_start", ">=", statement.period_start),
                    ("period_start", "<", statement.period_end),
                    ("statement_id", "!=", statement.id),
                ]
            )
            billed_ahead = sum((to_decimal(line.amount) for line in ahead), Decimal(0))
        try:
            return statement_lines.fee_lines(
                plan.name,
                plan.fee_timing,
                period,
                next_period,
                subscription._state_changes(),
                decimals,
                billed_ahead,
            )
        except (ValueError, PricingError):
            _logger.exception("Cannot rate the fee of %s", statement.display_name)
            raise

    def _mark_billed(self, statement, period):
        """Link exactly the events that were aggregated (snapshot-consistent UPDATE)."""
        self.env.cr.execute(
            """
            UPDATE usage_event e
               SET state = 'billed', statement_id = %(statement_id)s
             WHERE e.tenant_id = %(tenant_id)s AND e.state = 'accepted'
               AND e.occurred_at < %(end)s
               AND (e.occurred_at >= %(start)s OR EXISTS (
                    SELECT 1 FROM usage_statement s
                     WHERE s.tenant_id = e.tenant_id AND s.state != 'rejected'
                       AND s.id != %(statement_id)s
                       AND e.occurred_at >= s.period_start AND e.occurred_at < s.period_end))
            """,
            {
                "statement_id": statement.id,
                "tenant_id": statement.tenant_id.id,
                "start": utc.naive(period.start),
                "end": utc.naive(period.end),
            },
        )
        self.env["usage.event"].invalidate_model(["state", "statement_id"])

    def _line_values(self, statement, line, sequence):
        metric = line.metric
        product = metric.product_id if metric else statement.plan_id.fee_product_id
        return {
            "statement_id": statement.id,
            "sequence": sequence,
            "kind": line.kind,
            "plan_id": statement.plan_id.id,
            "metric_id": metric.id if metric else False,
            "product_id": product.id,
            "name": line.description,
            "period_start": utc.naive(line.period.start) if line.period else False,
            "period_end": utc.naive(line.period.end) if line.period else False,
            "quantity": float(line.quantity),
            "included": float(line.included),
            "billable": float(line.billable),
            "unit_price": float(line.unit_price) if line.unit_price is not None else 0.0,
            "amount": float(line.amount),
            "breakdown": line.breakdown,
        }

    @api.model
    def _now(self):
        return datetime.now(timezone.utc)
