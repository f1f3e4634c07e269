import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..utils import event_store
from ..utils.params import get_int_param
from .usage_event_billing import BILLED_EVENT_SQL, LINE_EVENT_QUANTITY_SQL

_logger = logging.getLogger(__name__)

#: Statement lines whose usage may be compacted: every line billing the same
#: (tenant, period) is on a statement whose invoice is posted, and the period
#: ended before the cut-off.  Nothing of such a period can change any more.
ELIGIBLE_LINES_SQL = """
WITH periods AS (
    SELECT l.tenant_id, l.period_start
      FROM usage_statement_line l
      JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
      LEFT JOIN account_move m ON m.id = s.invoice_id
     WHERE l.kind IN ('usage', 'late_usage') AND l.period_end <= %(cutoff)s
       AND s.company_id = ANY(%(company_ids)s)
       AND NOT EXISTS (SELECT 1 FROM usage_event_compaction c WHERE c.statement_line_id = l.id)
     GROUP BY l.tenant_id, l.period_start
    HAVING bool_and(m.state IS NOT DISTINCT FROM 'posted')
)
SELECT l.id
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
  JOIN periods p ON p.tenant_id = l.tenant_id AND p.period_start = l.period_start
 WHERE l.kind IN ('usage', 'late_usage')
"""

#: Per line: what reconciliation reads (a usage line's own usage, a late-usage
#: line's whole period as its snapshot saw it), the number of events billed by
#: the line, and a SHA-256 over those events (canonical text, ordered by id).
SUMMARY_SQL = f"""
INSERT INTO usage_event_compaction (
    statement_line_id, statement_id, company_id, tenant_id, metric_id, period_start, period_end,
    event_count, quantity, first_occurred_at, last_occurred_at, content_hash,
    create_uid, write_uid, create_date, write_date)
SELECT l.id, l.statement_id, l.company_id, l.tenant_id, l.metric_id, l.period_start,
       l.period_end, billed.count, COALESCE(read.quantity, 0), billed.first, billed.last,
       COALESCE(billed.digest, encode(sha256(''::bytea), 'hex')),
       %(uid)s, %(uid)s, %(now)s, %(now)s
  FROM usage_statement_line l
  JOIN usage_metric m ON m.id = l.metric_id
  LEFT JOIN LATERAL ({LINE_EVENT_QUANTITY_SQL}) read ON TRUE
  LEFT JOIN LATERAL (
        SELECT count(*) AS count, min(e.occurred_at) AS first, max(e.occurred_at) AS last,
               encode(sha256(convert_to(string_agg(
                   concat_ws('|', e.event_id, e.quantity::text, e.occurred_at::text,
                             e.properties::text), E'\\n' ORDER BY e.id), 'UTF8')), 'hex') AS digest
          FROM usage_event_data e
         WHERE {BILLED_EVENT_SQL}
  ) billed ON TRUE
 WHERE l.id = ANY(%(line_ids)s)
"""

DELETE_SQL = f"""
DELETE FROM usage_event_data e
 USING usage_statement_line l
 WHERE l.id = ANY(%(line_ids)s) AND {BILLED_EVENT_SQL}
"""


class UsageEventCompaction(models.Model):
    """The usage of a statement line once its raw events are compacted away.

    Old invoiced periods keep, per statement line, what reconciliation and
    audit need: the quantity read, the number of events and a SHA-256 of them
    (``concat_ws('|', event_id, quantity, occurred_at, properties)`` per event,
    one per line, in id order), so an archive of the raw events can be checked
    against it.  Event ids stay in ``usage_event_key``: a retried old event is
    still a duplicate.
    """

    _name = "usage.event.compaction"
    _description = "Compacted Usage"
    _order = "period_start desc, id desc"

    statement_line_id = fields.Many2one(
        "usage.statement.line", required=True, ondelete="cascade", index=True, readonly=True
    )
    statement_id = fields.Many2one("usage.statement", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    tenant_id = fields.Many2one("usage.tenant", required=True, readonly=True, index=True)
    metric_id = fields.Many2one("usage.metric", readonly=True)
    period_start = fields.Datetime(readonly=True)
    period_end = fields.Datetime(readonly=True)
    event_count = fields.Integer(readonly=True)
    quantity = fields.Float(digits=(28, 9), readonly=True)
    first_occurred_at = fields.Datetime(readonly=True)
    last_occurred_at = fields.Datetime(readonly=True)
    content_hash = fields.Char(string="SHA-256 of the events", readonly=True)

    _line_uniq = models.Constraint(
        "UNIQUE(statement_line_id)", "A statement line is compacted once."
    )

    @api.model
    def _cutoff(self, months=None):
        """Periods that ended before this are old enough (``retention_months`` setting)."""
        months = get_int_param(self.env, "retention_months") if months is None else months
        if months <= 0:
            return None
        today = event_store.month_start(fields.Date.today())
        return fields.Datetime.to_datetime(event_store.add_months(today, -months))

    @api.model
    def _eligible_lines(self, cutoff, companies=None):
        self.env.flush_all()
        companies = companies or self.env.companies
        self.env.cr.execute(ELIGIBLE_LINES_SQL, {"cutoff": cutoff, "company_ids": companies.ids})
        return self.env["usage.statement.line"].browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _preview(self, cutoff, companies=None):
        """Dry run: ``[{"month", "lines", "events"}]`` that compaction at ``cutoff`` removes."""
        lines = self._eligible_lines(cutoff, companies)
        if not lines:
            return []
        self.env.cr.execute(
            SQL(
                """
                SELECT date_trunc('month', l.period_start), count(DISTINCT l.id), count(e.id)
                  FROM usage_statement_line l
                  LEFT JOIN usage_event_data e ON %s
                 WHERE l.id = ANY(%s)
                 GROUP BY 1 ORDER BY 1
                """,
                SQL(BILLED_EVENT_SQL),
                lines.ids,
            )
        )
        return [
            {"month": month.date(), "lines": line_count, "events": event_count}
            for month, line_count, event_count in self.env.cr.fetchall()
        ]

    @api.model
    def _compact(self, cutoff, companies=None):
        """Summarize, then delete the raw usage of eligible lines; drop emptied partitions."""
        lines = self._eligible_lines(cutoff, companies)
        if not lines:
            return self.browse()
        params = {"line_ids": lines.ids, "uid": self.env.uid, "now": fields.Datetime.now()}
        self.env.cr.execute(SUMMARY_SQL, params)
        self.env.cr.execute(DELETE_SQL, params)
        deleted = self.env.cr.rowcount
        dropped = event_store.drop_empty_partitions(self.env.cr, cutoff)
        self.env.invalidate_all()
        _logger.info(
            "Usage compaction before %s: %s line(s), %s event(s), partitions dropped: %s",
            cutoff,
            len(lines),
            deleted,
            ", ".join(dropped) or "none",
        )
        return self.search([("statement_line_id", "in", lines.ids)])

    @api.model
    def _cron_compact(self):
        """Monthly, when a retention is set: compact what is older than it."""
        cutoff = self._cutoff()
        if cutoff is None:
            return self.browse()
        # Every company: a handful of rows, read once a month.
        companies = self.env["res.company"].search([])  # pylint: disable=no-search-all
        return self._compact(cutoff, companies)
