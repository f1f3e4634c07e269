from odoo import fields, models

from ..core.period_label import age_label
from ..core.quarantine import REASONS
from ..utils.actions import form_action, list_action

#: The quarantine backlog by company and reason, from the partial index of
#: quarantined events.  A row's id is its oldest event's (unique, and stable
#: while that event waits).
QUARANTINE_BY_REASON_SQL = """
SELECT (array_agg(id ORDER BY received_at, id))[1] AS id,
       company_id AS overview_id, company_id, quarantine_reason AS reason,
       count(*) AS event_count, min(received_at) AS oldest_received_at
  FROM usage_event_data
 WHERE state = 'quarantined'
 GROUP BY company_id, quarantine_reason
"""


class UsageBillingOverviewQuarantine(models.Model):
    """One line of the overview's quarantine backlog: a reason, its events, its oldest."""

    _name = "usage.billing.overview.quarantine"
    _description = "Usage Billing Overview: Quarantine by Reason"
    _auto = False
    _table_query = QUARANTINE_BY_REASON_SQL
    _order = "event_count desc, reason"
    _rec_name = "reason"

    overview_id = fields.Many2one("usage.billing.overview", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    reason = fields.Selection(
        [(code, code.replace("_", " ").capitalize()) for code in REASONS], readonly=True
    )
    event_count = fields.Integer(string="Events", readonly=True)
    oldest_received_at = fields.Datetime(string="Oldest received", readonly=True)
    oldest_age = fields.Char(string="Oldest waits", compute="_compute_oldest_age")

    def _compute_oldest_age(self):
        now = fields.Datetime.now()
        for row in self:
            oldest = row.oldest_received_at
            seconds = (now - oldest).total_seconds() if oldest else None
            row.oldest_age = age_label(seconds)

    def _domain(self):
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            ("state", "=", "quarantined"),
            ("quarantine_reason", "=", self.reason or False),
        ]

    def action_open_events(self):
        reason = dict(self._fields["reason"].selection).get(self.reason) or self.env._("No reason")
        return list_action(
            self.env,
            "usage_billing_connector.usage_event_action_quarantine",
            self._domain(),
            self.env._("Quarantine: %s", reason),
        )

    def action_open_oldest(self):
        self.ensure_one()
        # A row's id is its oldest event's.
        return form_action(self.env["usage.event"].browse(self.id))
