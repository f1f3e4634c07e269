"""The events' quantity of each statement line, kept so reconciliation need not recompute it.

A line's variance compares what it billed with what its events add up to, and
adding them up reads every event of the line's period: about 6 s for the
3,016 lines of two months at two million events, 84 ms once kept
(``docs/benchmarks.md``).  What the
events say of a line only changes when an event of its window is updated or
deleted, or its metric's aggregation changes, and ``utils/event_changes.py``
notes each such change.  So ``usage_reconciliation_quantity`` keeps, per line,
the quantity computed by the reconciliation's own expression, with the inputs
it was computed for (a line whose period or snapshots differ is recomputed) and
the snapshot of the computation.  A kept quantity stands only while no change
of its window is unseen by that snapshot; otherwise, or when none is kept yet,
the reconciliation view recomputes the line itself.  Figures are the same
either way: keeping only makes them cheap.

The cron (every 10 minutes, and triggered by each billing job as it ends)
keeps the lines of the most recent periods first, and forgets the noted
changes no computation can still miss.
"""

import logging

from odoo import api, models

from ..utils.event_changes import UNSEEN_CHANGE_SQL
from ..utils.event_store import current_snapshot
from .usage_event_billing import LINE_EVENT_QUANTITY_SQL

_logger = logging.getLogger(__name__)

#: Lines per statement of the cron: about 2 ms a line at two million events.
BATCH_SIZE = 1000

DDL = """
CREATE TABLE IF NOT EXISTS usage_reconciliation_quantity (
    statement_line_id int4 PRIMARY KEY
        REFERENCES usage_statement_line(id) ON DELETE CASCADE,
    tenant_id int4 NOT NULL,
    metric_id int4 NOT NULL,
    kind varchar NOT NULL,
    period_start timestamp NOT NULL,
    period_end timestamp NOT NULL,
    snapshot_from varchar,
    snapshot_to varchar NOT NULL,
    quantity numeric NOT NULL,
    snapshot varchar NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_reconciliation_quantity_metric_idx
    ON usage_reconciliation_quantity (metric_id, tenant_id);
"""

#: Kept row ``k`` still stands for line ``l``: computed for the line as it is,
#: and no change of its window since that the computation did not see.
KEPT_FOR_LINE_SQL = f"""
    k.statement_line_id = l.id AND k.tenant_id = l.tenant_id AND k.metric_id = l.metric_id
    AND k.kind = l.kind AND k.period_start = l.period_start AND k.period_end = l.period_end
    AND k.snapshot_to = l.snapshot_to AND k.snapshot_from IS NOT DISTINCT FROM l.snapshot_from
    AND NOT EXISTS (SELECT 1 FROM usage_event_change x WHERE {UNSEEN_CHANGE_SQL})"""

#: Usage lines of the reconciliation whose quantity is not kept (compacted lines
#: have their summary), the most recent periods first.
TO_KEEP_SQL = f"""
SELECT l.id
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE l.kind IN ('usage', 'late_usage')
   AND l.metric_id IS NOT NULL AND l.snapshot_to IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM usage_event_compaction c WHERE c.statement_line_id = l.id)
   AND NOT EXISTS (SELECT 1 FROM usage_reconciliation_quantity k WHERE {KEPT_FOR_LINE_SQL})
 ORDER BY l.period_end DESC, l.id
 LIMIT %(limit)s
"""

KEEP_SQL = f"""
INSERT INTO usage_reconciliation_quantity AS k (
    statement_line_id, tenant_id, metric_id, kind, period_start, period_end,
    snapshot_from, snapshot_to, quantity, snapshot)
SELECT l.id, l.tenant_id, l.metric_id, l.kind, l.period_start, l.period_end,
       l.snapshot_from, l.snapshot_to, COALESCE(q.quantity, 0), %(snapshot)s
  FROM usage_statement_line l
  JOIN usage_metric m ON m.id = l.metric_id
  LEFT JOIN LATERAL ({LINE_EVENT_QUANTITY_SQL}) q ON TRUE
 WHERE l.id = ANY(%(line_ids)s)
ON CONFLICT (statement_line_id) DO UPDATE
   SET tenant_id = EXCLUDED.tenant_id, metric_id = EXCLUDED.metric_id, kind = EXCLUDED.kind,
       period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
       snapshot_from = EXCLUDED.snapshot_from, snapshot_to = EXCLUDED.snapshot_to,
       quantity = EXCLUDED.quantity, snapshot = EXCLUDED.snapshot
"""

#: Changes every computation still running or to come sees (older than the
#: snapshot of every open transaction: ``backend_xmin``, as VACUUM's horizon)
#: and that no kept quantity still read misses (a compacted line reads its
#: summary, a rejected statement's line is out of the reconciliation: neither
#: is kept again, so neither may hold a change forever).  A keeper whose
#: snapshot predates such a change holds the horizon back, so the change is
#: kept for it.  Every session of the cluster counts, whatever its database or
#: role: a long transaction anywhere holds changes back, which only keeps more.
FORGET_SQL = f"""
DELETE FROM usage_event_change x
 WHERE age(x.xid::xid) > (
        SELECT COALESCE(max(age(backend_xmin)), 0) FROM pg_stat_activity
         WHERE backend_xmin IS NOT NULL)
   AND NOT EXISTS (
        SELECT 1
          FROM usage_reconciliation_quantity k
          JOIN usage_statement_line l ON l.id = k.statement_line_id
          JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
         WHERE {UNSEEN_CHANGE_SQL}
           AND NOT EXISTS (
                SELECT 1 FROM usage_event_compaction c WHERE c.statement_line_id = l.id))
"""


class UsageReconciliationQuantity(models.AbstractModel):
    """Keeps the events' quantity of statement lines (the table is plain SQL, as the events')."""

    _name = "usage.reconciliation.quantity"
    _description = "Kept Reconciliation Quantities"

    @api.model
    def _ensure_table(self):
        self.env.cr.execute(DDL)

    @api.model
    def _keep_event_quantities(self, limit=BATCH_SIZE):
        """Compute and keep the quantity of up to ``limit`` lines; how many it kept."""
        self.env.flush_all()
        self.env.cr.execute(TO_KEEP_SQL, {"limit": limit})
        line_ids = [row[0] for row in self.env.cr.fetchall()]
        if line_ids:
            snapshot = current_snapshot(self.env.cr)
            self.env.cr.execute(KEEP_SQL, {"line_ids": line_ids, "snapshot": snapshot})
        self._forget_changes()
        return len(line_ids)

    @api.model
    def _forget_changes(self):
        self.env.flush_all()  # statements' states and compactions are read in SQL
        self.env.cr.execute(FORGET_SQL)

    @api.model
    def _cron_keep_event_quantities(self):
        """Keep the lines not kept yet, a batch per commit, within the cron's time."""
        cron, kept = self.env["ir.cron"], 0
        while count := self._keep_event_quantities():
            kept += count
            if not cron._commit_progress(count):
                break
        _logger.info("Reconciliation: kept the events' quantity of %s line(s)", kept)
        return kept
