from odoo import api, fields, models
from odoo.tools import SQL

from ..core import utc
from .usage_period_rating import RECHECK_LAST_BILLING_SQL

#: Accepted usage of ended periods that no statement bills (yet): the events of
#: the stated periods to recheck that their latest billing did not see (late
#: usage, billed by the next run as a true-up), and the events of the ended
#: periods without statement (due, or waiting for the billing run).  Only those
#: periods are read, on the (tenant, metric, occurred_at) index: never the
#: history.  Usage of rejected statements is not counted: it waits for the
#: statement to be recomputed.
CLOSED_UNBILLED_SQL = f"""
WITH last AS ({RECHECK_LAST_BILLING_SQL.format(where="l.company_id = ANY(%(company_ids)s)")}),
due AS (
    SELECT * FROM unnest(%(tenant_ids)s::int4[], %(starts)s::timestamp[], %(ends)s::timestamp[])
        AS d(tenant_id, period_start, period_end)
)
SELECT e.id
  FROM last JOIN usage_event_data e
    ON e.tenant_id = last.tenant_id AND e.state = 'accepted'
   AND e.occurred_at >= last.period_start AND e.occurred_at < last.period_end
   AND NOT usage_event_seen(e.accepted_xid, e.accepted_seq, last.snapshot_to)
UNION ALL
SELECT e.id
  FROM due JOIN usage_event_data e
    ON e.tenant_id = due.tenant_id AND e.state = 'accepted'
   AND e.occurred_at >= due.period_start AND e.occurred_at < due.period_end
"""


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
        return SQL(
            CLOSED_UNBILLED_SQL,
            company_ids=company_ids,
            tenant_ids=[tenant_id for tenant_id, _period in windows],
            starts=[utc.naive(period.start) for _tenant, period in windows],
            ends=[utc.naive(period.end) for _tenant, period in windows],
        )

    def _search_closed_unbilled(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        positive = (True in value) == (operator == "in")
        return [("id", "in" if positive else "not in", self._closed_unbilled_sql())]
