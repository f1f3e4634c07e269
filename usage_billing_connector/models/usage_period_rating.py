import logging
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from odoo import api, models

from ..core import periods, statement_lines, utc
from ..core.pricing import PricingError

_logger = logging.getLogger(__name__)

#: The periods to recheck of some tenants (usage_period_recheck: written when a
#: period is billed and when usage of a stated period is accepted), with the
#: latest billing snapshot of each and the plan version it was rated with, kept
#: when usage arrived that it did not see: the periods that need a late-usage
#: true-up.  Never a scan of the history.
RECHECK_LAST_BILLING_SQL = """
    SELECT DISTINCT ON (l.tenant_id, l.period_start)
           l.tenant_id, l.period_start, l.period_end, l.snapshot_to, l.plan_id
      FROM usage_period_recheck r
      JOIN usage_statement_line l
        ON l.tenant_id = r.tenant_id AND l.period_start = r.period_start
       AND l.kind IN ('usage', 'late_usage')
      JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
     WHERE {where}
     ORDER BY l.tenant_id, l.period_start, l.id DESC
"""
LATE_PERIODS_SQL = f"""
WITH last AS ({RECHECK_LAST_BILLING_SQL.format(where="r.tenant_id = ANY(%(tenant_ids)s)")})
SELECT last.tenant_id, last.period_start, last.period_end, last.snapshot_to, last.plan_id
  FROM last
 WHERE EXISTS (
        SELECT 1 FROM usage_event_data e
         WHERE e.tenant_id = last.tenant_id AND e.state = 'accepted'
           AND e.occurred_at >= last.period_start AND e.occurred_at < last.period_end
           AND NOT usage_event_seen(e.accepted_xid, e.accepted_seq, last.snapshot_to))
"""

#: What non-rejected statements already charged, per (tenant, metric, period).
BILLED_AMOUNTS_SQL = """
SELECT l.tenant_id, l.metric_id, l.period_start, sum(l.amount)::text
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE l.tenant_id = ANY(%(tenant_ids)s) AND l.kind IN ('usage', 'late_usage')
 GROUP BY l.tenant_id, l.metric_id, l.period_start
"""

#: What commitment true-ups already charged, per (tenant, period).
COMMITMENT_BILLED_SQL = """
SELECT l.tenant_id, l.period_start, sum(l.amount)::text
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE l.tenant_id = ANY(%(tenant_ids)s) AND l.kind = 'commitment'
 GROUP BY l.tenant_id, l.period_start
"""

#: The commitment each period was measured against when it was stated (its statement's).
PERIOD_COMMITMENT_SQL = """
SELECT s.tenant_id, s.period_start, s.commitment_amount::text
  FROM usage_statement s
  JOIN unnest(%(tenant_ids)s::int[], %(starts)s::timestamp[]) AS p(tenant_id, period_start)
    ON s.tenant_id = p.tenant_id AND s.period_start = p.period_start
 WHERE s.state != 'rejected' AND s.correction_of_id IS NULL
"""

#: Recurring fees already billed ahead (in advance), per (subscription, period start).
BILLED_AHEAD_SQL = """
SELECT s.subscription_id, l.period_start, sum(l.amount)::text
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE s.subscription_id = ANY(%(subscription_ids)s) AND l.kind = 'fee'
   AND s.id != ALL(%(excluded)s)
 GROUP BY s.subscription_id, l.period_start
"""


class Rated(NamedTuple):
    """A rated period: its lines ``[(Line, snapshot_from)]`` and its commitment."""

    lines: list
    committed: Decimal  # the period's minimum spend, prorated (0: none)


class UsagePeriodRating(models.AbstractModel):
    """Rating many periods at once: the inputs in a few queries, the lines from the core.

    ``_rate`` takes ``[(subscription, period, with_late)]`` and returns, for each,
    the statement lines (``core.statement_lines.Line``) with the snapshot range
    of the usage they bill, and the commitment the period was measured against.
    Every input is read once for the whole batch (usage aggregates, late periods,
    amounts already billed, fee history), so the cost of a period is the
    arithmetic, not queries.
    """

    _name = "usage.period.rating"
    _description = "Rating of Usage Billing Periods"

    @api.model
    def _rate(self, items, snapshot, exclude_statements=(), use_rollup=False):
        """``{(subscription id, period start): Rated}`` for ``items``.

        ``use_rollup`` reads usage from the daily rollups (the read API: what a
        statement would say now) instead of the events (billing, which records
        the snapshot of the events it read).
        """
        self.env.flush_all()  # everything below reads with SQL
        events = self.env["usage.event"]
        windows = [(sub.tenant_id.id, utc.naive(p.start), utc.naive(p.end)) for sub, p, _l in items]
        if use_rollup:
            usage = {
                (tenant_id, start): events._aggregate_so_far(tenant_id, start, end)
                for tenant_id, start, end in windows
            }
        else:
            usage = _by_window(events._aggregate(windows, states=("accepted",)))
        pricing = _PlanPricing()
        late = self._late_periods(
            {sub.tenant_id.id for sub, _p, with_late in items if with_late}, pricing
        )
        ahead = self._billed_ahead([sub.id for sub, _p, _l in items], exclude_statements)
        result = {}
        for sub, period, with_late in items:
            decimals = sub.tenant_id.currency_id.decimal_places
            quantities = usage.get((sub.tenant_id.id, utc.naive(period.start)), {})
            usage_lines = self._usage_lines(sub, period, quantities, decimals, pricing)
            lines = [(line, None) for line in usage_lines]
            committed, breakdown, commitment_plan = sub._period_commitment(period)
            true_up = statement_lines.commitment_line(
                committed, usage_lines, period, breakdown, commitment_plan
            )
            if true_up:
                lines.append((true_up, None))
            if with_late:
                lines += late.lines(sub, decimals)
            fees = self._fee_lines(sub, period, ahead[sub.id], decimals)
            for line in fees:
                if line.kind == "fee" and line.period != period:  # billed ahead in this batch
                    start = line.period.start
                    ahead[sub.id][start] = ahead[sub.id].get(start, Decimal(0)) + line.amount
            result[(sub.id, utc.naive(period.start))] = Rated(
                lines + [(line, None) for line in fees], committed
            )
        return result

    # ------------------------------------------------------------------ usage

    def _usage_lines(self, subscription, period, quantities, decimals, pricing):
        quantities = dict(quantities)
        lines = []
        for metric, charge in pricing.charges(subscription.plan_id).items():
            quantity = quantities.pop(metric.id, Decimal(0))
            lines.append(
                statement_lines.usage_line(metric, metric.name, charge, quantity, decimals, period)
            )
        for metric in self.env["usage.metric"].browse(sorted(quantities)):
            lines.append(_not_charged(metric, quantities[metric.id], period))
        return lines

    def _late_periods(self, tenant_ids, pricing):
        """The true-ups of stated periods that received usage since (``_LatePeriods``)."""
        late = _LatePeriods(self.env, pricing)
        if not tenant_ids:
            return late
        cr = self.env.cr
        cr.execute(LATE_PERIODS_SQL, {"tenant_ids": list(tenant_ids)})
        found = cr.fetchall()
        # Checked: whatever is late now is billed by the statements being written,
        # which mark their own periods for the next check.
        cr.execute("DELETE FROM usage_period_recheck WHERE tenant_id = ANY(%s)", [list(tenant_ids)])
        for tenant_id, start, end, snapshot, plan_id in found:
            late.periods[tenant_id].append((start, end, snapshot, plan_id))
        events = self.env["usage.event"]
        windows = [(t, s, e) for t, s, e, _snap, _plan in found]
        late.totals = events._aggregate(windows, ("accepted",))
        late.pending = _by_window(events._aggregate([f[:4] for f in found], ("accepted",)))
        cr.execute(BILLED_AMOUNTS_SQL, {"tenant_ids": list(tenant_ids)})
        late.billed = {(t, m, s): Decimal(amount) for t, m, s, amount in cr.fetchall()}
        cr.execute(COMMITMENT_BILLED_SQL, {"tenant_ids": list(tenant_ids)})
        late.trued_up = {(t, s): Decimal(amount) for t, s, amount in cr.fetchall()}
        cr.execute(
            PERIOD_COMMITMENT_SQL,
            {"tenant_ids": [f[0] for f in found], "starts": [f[1] for f in found]},
        )
        late.committed = {
            (t, s): None if amount is None else Decimal(amount) for t, s, amount in cr.fetchall()
        }
        return late

    # ------------------------------------------------------------------ fees

    def _billed_ahead(self, subscription_ids, exclude_statements):
        self.env.cr.execute(
            BILLED_AHEAD_SQL,
            {"subscription_ids": subscription_ids, "excluded": list(exclude_statements) or [0]},
        )
        ahead = defaultdict(dict)
        for sub_id, start, amount in self.env.cr.fetchall():
            ahead[sub_id][utc.aware(start)] = Decimal(amount)
        return ahead

    def _fee_lines(self, subscription, period, ahead, decimals):
        """Recurring fee lines; ``ahead`` is ``{period start: amount}`` billed in advance."""
        plan = subscription.plan_id
        if not plan.fee_unit_price or not plan.fee_product_id:
            return []
        next_period = periods.next_period(
            period, plan.billing_interval, utc.aware(subscription.billing_anchor)
        )
        billed_ahead = Decimal(0)
        if plan.fee_timing == "in_advance":
            billed_ahead = sum(
                (amount for start, amount in ahead.items() if start in period), Decimal(0)
            )
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
            _logger.exception("Cannot rate the fee of %s", subscription.display_name)
            raise


def _by_window(usage):
    """``{(tenant id, start): {metric id: quantity}}`` from ``usage.event._aggregate``."""
    windows = defaultdict(dict)
    for (tenant_id, start, metric_id), quantity in usage.items():
        windows[(tenant_id, start)][metric_id] = quantity
    return windows


def _not_charged(metric, quantity, period, kind="usage"):
    """Usage of a metric the plan does not charge: shown, billed at zero."""
    return statement_lines.Line(
        kind,
        f"{metric.name}: {quantity} (not charged by the plan)",
        Decimal(0),
        quantity=quantity,
        billable=Decimal(0),
        metric=metric,
        period=period,
    )


class _PlanPricing:
    """The plans' charges as the rating engine sees them, looked up once per plan and batch
    (the terms themselves are cached per worker: ``usage.plan._charge_terms``)."""

    def __init__(self):
        self._by_plan = {}

    def charges(self, plan):
        """``{metric: pricing.Charge}`` of ``plan``, in the plan's charge order."""
        if plan.id not in self._by_plan:
            terms = plan._charge_terms()
            # one recordset, so that reading a metric reads them all at once
            metrics = plan.env["usage.metric"].browse([charge.metric_id for charge in terms])
            self._by_plan[plan.id] = {
                metric: charge.charge for metric, charge in zip(metrics, terms, strict=True)
            }
        return self._by_plan[plan.id]


class _LatePeriods:
    """Late-usage true-ups of some tenants, from inputs read once for the batch.

    ``periods``: tenant id -> ``[(start, end, snapshot of its last billing, plan
    id it was rated with)]`` — a true-up re-rates its period with the plan
    version the period was billed with, not the subscription's current one;
    ``totals``: the whole quantity of each of those periods now; ``pending``: what
    arrived since their last billing; ``billed``: what was charged for them;
    ``trued_up``: what their commitment lines charged; ``committed``: the
    commitment each was stated with (late usage is measured against it, not
    against the commitment in force today).
    """

    def __init__(self, env, pricing):
        self.env = env
        self.pricing = pricing
        self.periods = defaultdict(list)
        self.totals = {}
        self.pending = {}
        self.billed = {}
        self.trued_up = {}
        self.committed = {}

    def lines(self, subscription, decimals):
        """``[(Line, snapshot_from)]``: a true-up per metric with new usage in a stated period,
        and the period's commitment true-up brought up to date."""
        tenant = subscription.tenant_id
        lines = []
        for start, end, snapshot, plan_id in self.periods.get(tenant.id, ()):
            plan = self.env["usage.plan"].browse(plan_id)
            charges = {metric.id: charge for metric, charge in self.pricing.charges(plan).items()}
            period = periods.Period(utc.aware(start), utc.aware(end))
            new_metrics = sorted(self.pending.get((tenant.id, start), {}))
            late = []
            for metric in self.env["usage.metric"].browse(new_metrics):
                total = self.totals[(tenant.id, start, metric.id)]
                charge = charges.get(metric.id)
                if charge is None:
                    late.append(_not_charged(metric, total, period, "late_usage"))
                    continue
                billed = self.billed.get((tenant.id, metric.id, start), Decimal(0))
                late.append(
                    statement_lines.late_usage_line(
                        metric, metric.name, charge, total, billed, decimals, period, plan
                    )
                )
            lines += [(line, snapshot) for line in late]
            adjustment = self._commitment_adjustment(subscription, start, period, late, plan)
            if adjustment:
                lines.append((adjustment, None))
        return lines

    def _commitment_adjustment(self, subscription, start, period, late, plan):
        """The commitment true-up of a stated period, given its late usage (or None)."""
        tenant_id = subscription.tenant_id.id
        committed = self.committed.get((tenant_id, start))
        if committed is None:  # stated before statements recorded their commitment
            committed = subscription._period_commitment(period)[0]
        trued_up = self.trued_up.get((tenant_id, start), Decimal(0))
        if not committed and not trued_up:
            return None
        charged = sum(
            (amount for (t, _m, s), amount in self.billed.items() if (t, s) == (tenant_id, start)),
            Decimal(0),
        ) + sum((line.amount for line in late), Decimal(0))
        return statement_lines.commitment_adjustment_line(
            committed, charged, trued_up, period, plan
        )
