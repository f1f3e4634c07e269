from odoo import api, fields, models

from ..core import utc
from ..utils.params import get_param


class UsageEvent(models.Model):
    """What billing adds to usage events: the statement link and the closed-period rules."""

    _inherit = "usage.event"

    statement_id = fields.Many2one(
        "usage.statement", readonly=True, index="btree_not_null", ondelete="set null"
    )

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
        if get_param(self.env, "late_usage_policy") == "quarantine":
            cr.execute(
                "SELECT tenant_id, period_start, period_end FROM usage_statement"
                " WHERE tenant_id = ANY(%s) AND state != 'rejected'",
                [list(tenant_ids)],
            )
            for tid, start, end in cr.fetchall():
                closed.setdefault(tid, []).append((utc.aware(start), utc.aware(end)))
        if not cancelled and not closed:
            return None

        def rule(tenant_id, occurred_at):
            if tenant_id in cancelled and occurred_at >= cancelled[tenant_id]:
                return "no_subscription"
            for start, end in closed.get(tenant_id, ()):
                if start <= occurred_at < end:
                    return "period_invoiced"
            return None

        return rule
