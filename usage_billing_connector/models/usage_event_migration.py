import logging

from odoo import api, fields, models

from ..utils import event_store, usage_rollup

_logger = logging.getLogger(__name__)

#: Events of the 19.0.1.0.0 table, billed or not, as the append-only store holds them.
#: A billed event was marked with its statement; here it is made billable at a
#: synthetic point of a synthetic transaction (xid 3, sequence = the rank of its
#: statement), and each statement line gets a snapshot that sees exactly the
#: events of its statement and earlier ones.  Unbilled accepted events come
#: after every rank: the next billing run sees them as new.
COPY_SQL = """
WITH ranked AS (
    SELECT id, dense_rank() OVER (ORDER BY id) AS rank FROM usage_statement
)
INSERT INTO usage_event_data (
    id, occurred_at, event_id, company_id, api_key_id, request_id, tenant_ref, tenant_id,
    metric_code, metric_id, quantity, received_at, properties, state, quarantine_reason,
    accepted_xid, accepted_seq, create_uid, create_date, write_uid, write_date)
SELECT e.id, e.occurred_at, e.event_id, e.company_id, e.api_key_id, e.request_id, e.tenant_ref,
       e.tenant_id, e.metric_code, e.metric_id, e.quantity, e.received_at, e.properties,
       CASE WHEN e.state = 'billed' THEN 'accepted' ELSE e.state END,
       e.quarantine_reason,
       CASE WHEN e.state IN ('billed', 'accepted') THEN '3'::xid8 END,
       CASE WHEN e.state = 'billed' THEN r.rank
            WHEN e.state = 'accepted' THEN %(after_all)s END,
       e.create_uid, e.create_date, e.write_uid, e.write_date
  FROM usage_event_legacy e
  LEFT JOIN ranked r ON r.id = e.statement_id
"""
# Executed without parameters: the % of format() reaches PostgreSQL as written.
LINES_SQL = """
WITH ranked AS (
    SELECT id, dense_rank() OVER (ORDER BY id) AS rank FROM usage_statement
), stamped AS (
    SELECT l.id, format('4:4:;3;%s', r.rank + 1) AS snapshot_to,
           lag(format('4:4:;3;%s', r.rank + 1)) OVER (
               PARTITION BY s.tenant_id, l.metric_id, l.period_start ORDER BY r.rank
           ) AS snapshot_from
      FROM usage_statement_line l
      JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
      JOIN ranked r ON r.id = s.id
     WHERE l.kind IN ('usage', 'late_usage')
)
UPDATE usage_statement_line l
   SET snapshot_to = stamped.snapshot_to, snapshot_from = stamped.snapshot_from,
       tenant_id = (SELECT tenant_id FROM usage_statement WHERE id = l.statement_id)
  FROM stamped WHERE stamped.id = l.id
"""


# One concept per file: the event store (usage_event.py), its aggregates, what
# billing derives from it and this upgrade each extend usage.event on their own.
class UsageEvent(models.Model):
    _inherit = "usage.event"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _migrate_legacy_events(self):
        """Upgrade from 19.0.1.0.0: copy the old table into the store, billing derived."""
        cr = self.env.cr
        if not event_store.exists(cr, "usage_event_legacy"):
            return 0
        cr.execute("SELECT min(occurred_at)::date FROM usage_event_legacy")
        oldest = cr.fetchone()[0]
        today = fields.Date.today()
        if oldest:
            # Outliers (decades away) go to the default partition, not a partition a month.
            first = max(event_store.month_start(oldest), event_store.add_months(today, -36))
            event_store.ensure_partitions(cr, first, event_store.add_months(today, 3))
        cr.execute("SELECT count(*) FROM usage_statement")
        after_all = cr.fetchone()[0] + 1
        cr.execute(COPY_SQL, {"after_all": after_all})
        copied = cr.rowcount
        cr.execute(
            """
            INSERT INTO usage_event_key (company_id, event_id, payload_hash)
            SELECT company_id, event_id, payload_hash FROM usage_event_legacy
            """
        )
        cr.execute(LINES_SQL)
        # Accepted usage the old billing had not marked: its stated periods are rechecked.
        cr.execute(
            """
            INSERT INTO usage_period_recheck (tenant_id, period_start, period_end)
            SELECT DISTINCT s.tenant_id, s.period_start, s.period_end
              FROM usage_statement s
              JOIN usage_event_data e
                ON e.tenant_id = s.tenant_id AND e.accepted_seq = %s
               AND e.occurred_at >= s.period_start AND e.occurred_at < s.period_end
             WHERE s.state != 'rejected'
            ON CONFLICT DO NOTHING
            """,
            [after_all],
        )
        cr.execute(
            "SELECT setval(pg_get_serial_sequence('usage_event_data', 'id'),"
            " GREATEST((SELECT max(id) FROM usage_event_data), 1))"
        )
        cr.execute("SELECT setval('usage_event_accepted_seq', %s)", [after_all + 1])
        cr.execute("DROP TABLE usage_event_legacy")
        usage_rollup.backfill(cr)
        self.env.invalidate_all()
        _logger.info("Usage events: %s row(s) moved into the partitioned store", copied)
        return copied
