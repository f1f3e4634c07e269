from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..core import snapshots, utc
from ..utils.event_store import ACCEPTED_ORDER
from .usage_period_rating import RECHECK_LAST_BILLING_SQL

#: Accepted usage of ended periods that no statement bills (yet): the events of
#: the stated periods to recheck that their latest billing did not see (late
#: usage, billed by the next run as a true-up), and the events of the ended
#: periods without statement (due, or waiting for the billing run).  Only those
#: periods are read, and of the stated ones only the events their billing
#: snapshot may not have seen (``snapshots.unseen_candidates``: accepted since,
#: or in flight then), found with the BRIN index of the acceptance order: the
#: figure costs what the late usage costs, not what the billed usage does.
#: Usage of rejected statements is not counted: it waits for the statement to
#: be recomputed.
RECHECKED_SQL = RECHECK_LAST_BILLING_SQL.format(where="l.company_id = ANY(%(company_ids)s)")

#: The unseen events of the periods a group of billing snapshots rechecks; the
#: bounds are constants, which the BRIN index and partition pruning need.
UNSEEN_SQL = f"""
SELECT e.id
  FROM unnest(%(tenant_ids)s::int4[], %(starts)s::timestamp[], %(ends)s::timestamp[],
              %(snapshots)s::text[]) AS last(tenant_id, period_start, period_end, snapshot_to)
  JOIN usage_event_data e
    ON e.tenant_id = last.tenant_id AND e.state = 'accepted'
   AND e.occurred_at >= last.period_start AND e.occurred_at < last.period_end
   AND e.occurred_at >= %(first)s AND e.occurred_at < %(last)s
   AND ({ACCEPTED_ORDER.replace("accepted_xid", "e.accepted_xid")} >= %(first_unseen)s
        OR %(unseen_xids)s)
   AND NOT usage_event_seen(e.accepted_xid, e.accepted_seq, last.snapshot_to)
"""
DUE_SQL = """
SELECT e.id
  FROM unnest(%(tenant_ids)s::int4[], %(starts)s::timestamp[], %(ends)s::timestamp[])
        AS due(tenant_id, period_start, period_end)
  JOIN usage_event_data e
    ON e.tenant_id = due.tenant_id AND e.state = 'accepted'
   AND e.occurred_at >= due.period_start AND e.occurred_at < due.period_end
"""
#: At most this many groups of snapshots (one statement each): beyond, the
#: nearest ones share the widest bounds of their group.
MAX_SNAPSHOT_GROUPS = 32


class UsageEvent(models.Model):
    _inherit = "usage.event"  # pylint: disable=consider-merging-classes-inherited

    closed_unbilled = fields.Boolean(
        string="Unbilled, period ended",
        compute="_compute_closed_unbilled",
        search="_search_closed_unbilled",
        help="Accepted usage of an ended billing period that no statement bills yet.",
    )

    def _compute_closed_unbilled(self):
        unbilled = set(self.search([("id", "in", self.ids), ("closed_unbilled", "=", True)]).ids)
        for event in self:
            event.closed_unbilled = event.id in unbilled

    @api.model
    def _closed_unbilled_sql(self):
        """``SQL``: ids of the unbilled usage of ended periods, in the user's companies."""
        company_ids = self.env.companies.ids
        now = utc.aware(fields.Datetime.now())
        due = self.env["usage.subscription"].search(
            [("company_id", "in", company_ids), ("next_close_at", "<=", utc.naive(now))]
        )
        windows = [(sub.tenant_id.id, period) for sub in due for period in sub._due_periods(now)]
        self.flush_model()
        self.env["usage.statement.line"].flush_model()
        self.env["usage.statement"].flush_model(["state"])
        self.env.cr.execute(RECHECKED_SQL, {"company_ids": company_ids})
        # (tenant, start, end, snapshot, plan) of each period to recheck.
        rechecked = self.env.cr.fetchall()
        parts = [self._unseen_sql(group) for group in _snapshot_groups(rechecked)]
        parts.append(
            SQL(
                DUE_SQL,
                tenant_ids=[tenant_id for tenant_id, _period in windows],
                starts=[utc.naive(period.start) for _tenant, period in windows],
                ends=[utc.naive(period.end) for _tenant, period in windows],
            )
        )
        return SQL(" UNION ALL ").join(parts)

    @api.model
    def _unseen_sql(self, rows):
        """``SQL``: the events the snapshots of ``rows`` (periods to recheck) did not see."""
        first, xids = None, set()
        for snapshot in {row[3] for row in rows}:
            if not snapshot:  # no snapshot: any event may be unseen
                first = 0
                continue
            xmax, others = snapshots.unseen_candidates(snapshot)
            first = xmax if first is None else min(first, xmax)
            xids.update(others)
        # Equalities ORed, not "= ANY": PostgreSQL 15's BRIN scans take those only.
        order = ACCEPTED_ORDER.replace("accepted_xid", "e.accepted_xid")
        equal = [SQL(f"{order} = %s", xid) for xid in sorted(xids)]
        return SQL(
            UNSEEN_SQL,
            tenant_ids=[row[0] for row in rows],
            starts=[row[1] for row in rows],
            ends=[row[2] for row in rows],
            snapshots=[row[3] for row in rows],
            first=min(row[1] for row in rows),
            last=max(row[2] for row in rows),
            first_unseen=first or 0,
            unseen_xids=SQL(" OR ").join(equal) if equal else SQL("FALSE"),
        )

    def _search_closed_unbilled(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        positive = (True in value) == (operator == "in")
        return [("id", "in" if positive else "not in", self._closed_unbilled_sql())]


def _snapshot_groups(rechecked):
    """The periods to recheck grouped by what their billing snapshots may not have
    seen (the jobs of one billing run share it, or nearly), oldest first; past
    ``MAX_SNAPSHOT_GROUPS`` neighbours are merged (wider bounds, same answer)."""
    groups = defaultdict(list)
    for row in rechecked:
        first, others = snapshots.unseen_candidates(row[3]) if row[3] else (0, [])
        groups[(first, tuple(others))].append(row)
    ordered = [groups[key] for key in sorted(groups)]
    size = max(1, -(-len(ordered) // MAX_SNAPSHOT_GROUPS))  # ceiling
    return [
        [row for rows in ordered[i : i + size] for row in rows]
        for i in range(0, len(ordered), size)
    ]
