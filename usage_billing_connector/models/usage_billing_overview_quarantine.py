from odoo import api, fields, models

from ..core.period_label import age_label
from ..core.quarantine import REASONS
from ..utils.actions import form_action, list_action
from .usage_billing_overview_drilldown import figure_path

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

    @api.model
    def _reason_action(self, company, reason):
        """The quarantined events of ``company`` held for ``reason``: a row's list.

        Its URL is the reason's own path after the company's overview
        (``/odoo/usage-billing-overview/<company>/usage-billing-overview-quarantine-
        <reason>``, ``active_id`` the company): a reload or a new tab lists the same
        events under the same title, even once the row is gone (backlog cleared).
        """
        label = dict(self._fields["reason"].selection).get(reason) or self.env._("No reason")
        return list_action(
            self.env,
            "usage_billing_connector.usage_event_action_quarantine",
            [
                ("company_id", "=", company.id),
                ("state", "=", "quarantined"),
                ("quarantine_reason", "=", reason or False),
            ],
            self.env._("Quarantine: %s", label),
            context={"active_id": company.id},
            path=figure_path(f"quarantine_{reason}") if reason in REASONS else None,
        )

    def action_open_events(self):
        self.ensure_one()
        return self._reason_action(self.company_id, self.reason)

    def action_open_oldest(self):
        self.ensure_one()
        # A row's id is its oldest event's.
        return form_action(self.env["usage.event"].browse(self.id))
