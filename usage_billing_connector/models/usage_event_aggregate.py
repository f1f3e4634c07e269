from decimal import Decimal

from odoo import api, models

from ..utils import usage_rollup

#: The aggregate of one metric's events ``e`` (joined with the metric as ``m``),
#: as the metric's aggregation defines it.  Billing, reconciliation, thresholds
#: and the CRM's usage figures all aggregate with this one expression.
AGGREGATE_EXPRESSION = """
    CASE m.aggregation
        WHEN 'sum' THEN sum(e.quantity)
        WHEN 'max' THEN max(e.quantity)
        WHEN 'count' THEN count(*)::numeric
        WHEN 'unique_count' THEN count(DISTINCT e.properties ->> m.unique_property)::numeric
        WHEN 'last' THEN (array_agg(e.quantity ORDER BY e.occurred_at DESC, e.id DESC))[1]
    END"""

# Many (tenant, window) pairs in one statement, on the (tenant_id, metric_id,
# occurred_at) index of the monthly partitions; the overall bounds let the planner
# skip every other partition.  A window may count only the events a billing
# snapshot did not see yet (late usage).  Read as text: Odoo's driver turns
# NUMERIC into float, and quantities must stay exact.
AGGREGATE_SQL = f"""
WITH windows AS (
    SELECT * FROM unnest(%(tenant_ids)s::int[], %(starts)s::timestamp[],
                         %(ends)s::timestamp[], %(unseen_by)s::text[])
        AS w(tenant_id, period_start, period_end, unseen_by)
)
SELECT w.tenant_id, w.period_start, e.metric_id, ({AGGREGATE_EXPRESSION})::text
  FROM windows w
  JOIN usage_event_data e
    ON e.tenant_id = w.tenant_id
   AND e.occurred_at >= w.period_start AND e.occurred_at < w.period_end
   AND e.occurred_at >= %(first)s AND e.occurred_at < %(last)s
   AND e.state = ANY(%(states)s)
   AND (w.unseen_by IS NULL
        OR NOT usage_event_seen(e.accepted_xid, e.accepted_seq, w.unseen_by))
  JOIN usage_metric m ON m.id = e.metric_id
 GROUP BY w.tenant_id, w.period_start, e.metric_id, m.aggregation, m.unique_property
"""


class UsageEvent(models.Model):
    _inherit = "usage.event"

    @api.model
    def _aggregate_so_far(self, tenant_id, start, end):
        """``{metric_id: Decimal}`` of accepted usage in ``[start, end)``, from the daily
        rollups when the window allows it (whole days), else from the events."""
        if usage_rollup.aligned(start, end):
            self.flush_model()
            return usage_rollup.read(self.env.cr, tenant_id, start, end)
        usage = self._aggregate([(tenant_id, start, end)])
        return {metric_id: quantity for (_t, _s, metric_id), quantity in usage.items()}

    @api.model
    def _aggregate(self, windows, states=("accepted",)):
        """Usage per metric in each window, with each metric's own aggregation.

        ``windows`` is ``[(tenant_id, start, end)]`` in naive UTC, or
        ``[(tenant_id, start, end, snapshot)]`` to count only what that billing
        snapshot did not see; the answer is ``{(tenant_id, start, metric_id):
        Decimal}`` (metrics without usage in a window are absent).
        """
        if not windows:
            return {}
        self.flush_model()
        self.env.cr.execute(
            AGGREGATE_SQL,
            {
                "tenant_ids": [window[0] for window in windows],
                "starts": [window[1] for window in windows],
                "ends": [window[2] for window in windows],
                "unseen_by": [window[3] if len(window) > 3 else None for window in windows],
                "first": min(window[1] for window in windows),
                "last": max(window[2] for window in windows),
                "states": list(states),
            },
        )
        return {
            (tenant_id, start, metric_id): Decimal(value)
            for tenant_id, start, metric_id, value in self.env.cr.fetchall()
        }
