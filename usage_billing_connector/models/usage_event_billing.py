from odoo import api, fields, models
from odoo.tools import SQL

from ..core import utc
from ..utils.params import get_param
from .usage_event_aggregate import AGGREGATE_EXPRESSION

#: The statement line that billed event ``e``: the line of its tenant, metric and
#: period whose snapshot sees it and whose previous snapshot (``snapshot_from``,
#: the earlier statement of the same period) did not.  Billing never writes the
#: event: "billed" is derived from the statements (``utils/event_store.py``).
#: Event ``e`` is billed by line ``l`` (any statement state).
BILLED_EVENT_SQL = """
    l.tenant_id = e.tenant_id AND l.metric_id = e.metric_id
    AND l.kind IN ('usage', 'late_usage') AND e.state = 'accepted'
    AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
    AND usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_to)
    AND (l.snapshot_from IS NULL
         OR NOT usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_from))
"""
#: What the events say statement line ``l`` (its metric joined as ``m``) billed:
#: a usage line, what its snapshot saw and the period's previous one did not; a
#: late-usage line re-rates the whole period as its snapshot saw it.  What
#: reconciliation compares with the line, computed by this one expression.
LINE_EVENT_QUANTITY_SQL = f"""
SELECT {AGGREGATE_EXPRESSION} AS quantity
  FROM usage_event_data e
 WHERE e.tenant_id = l.tenant_id AND e.metric_id = l.metric_id AND e.state = 'accepted'
   AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
   AND usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_to)
   AND (l.kind = 'late_usage' OR l.snapshot_from IS NULL
        OR NOT usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_from))"""
BILLED_BY_SQL = f"""
SELECT l.id
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE {BILLED_EVENT_SQL}
"""


class UsageEvent(models.Model):
    """What billing says about usage events (derived, never written) and the closed-period rules."""

    _inherit = "usage.event"  # pylint: disable=consider-merging-classes-inherited

    statement_line_id = fields.Many2one(
        "usage.statement.line", compute="_compute_billing", search="_search_statement_line_id"
    )
    statement_id = fields.Many2one(
        "usage.statement", compute="_compute_billing", search="_search_statement_id"
    )
    billed = fields.Boolean(compute="_compute_billing", search="_search_billed")

    def _compute_billing(self):
        lines = {}
        if self.ids:
            self.env["usage.statement.line"].flush_model()
            self.env["usage.statement"].flush_model(["state"])
            self.env.cr.execute(
                SQL(
                    "SELECT e.id, (%s LIMIT 1) FROM usage_event_data e"
                    " WHERE e.id = ANY(%s) AND e.state = 'accepted'",
                    SQL(BILLED_BY_SQL),
                    self.ids,
                )
            )
            lines = dict(self.env.cr.fetchall())
        for event in self:
            line = self.env["usage.statement.line"].browse(lines.get(event.id))
            event.statement_line_id = line
            event.statement_id = line.statement_id
            event.billed = bool(line)

    @api.model
    def _invalidate_billing(self):
        """Statements changed: what is billed must be read again."""
        self.invalidate_model(["statement_line_id", "statement_id", "billed"])

    def _billed_events_sql(self, line_condition):
        """``SQL`` subquery of the ids of accepted events billed by lines matching the condition."""
        return SQL(
            "(SELECT e.id FROM usage_event_data e"
            " WHERE e.state = 'accepted' AND EXISTS (%s AND %s))",
            SQL(BILLED_BY_SQL),
            line_condition,
        )

    def _search_by_line(self, operator, value, column):
        """Events billed by lines whose ``column`` is in ``value`` (``False``: not billed)."""
        if operator not in ("in", "not in"):
            return NotImplemented
        ids = [item for item in value if item]
        if not ids:  # ('statement_id', '=', False): the events no statement billed
            return self._search_billed("not in" if operator == "in" else "in", {True})
        condition = SQL("%s = ANY(%s)", SQL.identifier("l", column), ids)
        return [("id", operator, self._billed_events_sql(condition))]

    def _search_statement_line_id(self, operator, value):
        return self._search_by_line(operator, value, "id")

    def _search_statement_id(self, operator, value):
        return self._search_by_line(operator, value, "statement_id")

    def _search_billed(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        billed = self._billed_events_sql(SQL("TRUE"))
        positive = (True in value) == (operator == "in")
        return [("id", "in" if positive else "not in", billed)]

    @api.model
    def _closed_period_rule(self, tenant_ids):
        """Quarantine usage after cancellation and, by setting, usage of invoiced periods."""
        if not tenant_ids:
            return None
        cr = self.env.cr
        cr.execute(
            """
            SELECT tenant_id, bool_or(state != 'cancelled'), max(cancelled_at)
              FROM usage_subscription WHERE tenant_id = ANY(%s) GROUP BY tenant_id
            """,
            [list(tenant_ids)],
        )
        cancelled = {
            tid: utc.aware(end) for tid, is_open, end in cr.fetchall() if not is_open and end
        }
        closed = {}
        # Periods compacted away cannot be re-rated exactly: their late usage waits.
        cr.execute(
            "SELECT DISTINCT tenant_id, period_start, period_end FROM usage_event_compaction"
            " WHERE tenant_id = ANY(%s)",
            [list(tenant_ids)],
        )
        compacted = {}
        for tid, start, end in cr.fetchall():
            compacted.setdefault(tid, []).append((utc.aware(start), utc.aware(end)))
        if get_param(self.env, "late_usage_policy") == "quarantine":
            cr.execute(
                "SELECT tenant_id, period_start, period_end FROM usage_statement"
                " WHERE tenant_id = ANY(%s) AND state != 'rejected'",
                [list(tenant_ids)],
            )
            # A correction being written re-opens its own period for the usage it releases.
            correcting = set(self.env.context.get("usage_billing_correcting_periods", ()))
            for tid, start, end in cr.fetchall():
                if (tid, start) not in correcting:
                    closed.setdefault(tid, []).append((utc.aware(start), utc.aware(end)))
        if not cancelled and not closed and not compacted:
            return None

        def rule(tenant_id, occurred_at):
            if tenant_id in cancelled and occurred_at >= cancelled[tenant_id]:
                return "no_subscription"
            for reason, found in (("period_compacted", compacted), ("period_invoiced", closed)):
                for start, end in found.get(tenant_id, ()):
                    if start <= occurred_at < end:
                        return reason
            return None

        return rule
