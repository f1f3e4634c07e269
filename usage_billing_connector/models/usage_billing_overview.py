"""Usage Billing → Overview: the operations of one company on one screen.

One record per company (``_table_query``: no table, no SQL view, nothing to
keep up to date); every figure is computed when the screen is read, with one
bounded, indexed query per section, and every figure opens the list behind it
with the same conditions (``action_open_*``).  Sources, chosen to stay fast on
millions of events:

* ingestion today: the ingestion log (one row per request, index on company
  and date), not the events;
* quarantine: the partial index of quarantined events (the backlog, small);
* statements: the statements' state index;
* unbilled usage of closed periods: ``usage.event.closed_unbilled`` (the
  periods to recheck and the ended periods without statement only);
* reconciliation: the periods closed in the last ``RECONCILIATION_DAYS`` days.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.tools import SQL, format_amount

from ..core.period_label import age_label

#: The reconciliation figure covers periods that ended this recently (older
#: ones were reconciled when closed; the Reconciliation menu shows them all).
RECONCILIATION_DAYS = 62

INGESTION_SQL = """
SELECT count(*),
       COALESCE(sum(accepted), 0), COALESCE(sum(duplicates), 0),
       COALESCE(sum(quarantined), 0), COALESCE(sum(rejected), 0),
       count(*) FILTER (WHERE http_status >= 400)
  FROM usage_ingest_log
 WHERE company_id = %(company_id)s AND endpoint = 'events' AND create_date >= %(since)s
"""

LAST_RECEIVED_SQL = """
SELECT create_date FROM usage_ingest_log
 WHERE company_id = %(company_id)s AND endpoint = 'events'
   AND COALESCE(accepted, 0) + COALESCE(duplicates, 0) + COALESCE(quarantined, 0) > 0
 ORDER BY create_date DESC LIMIT 1
"""

QUARANTINE_SQL = """
SELECT count(*), min(received_at),
       (array_agg(id ORDER BY received_at, id))[1]
  FROM usage_event_data
 WHERE company_id = %(company_id)s AND state = 'quarantined'
"""


class UsageBillingOverview(models.Model):
    _name = "usage.billing.overview"
    _description = "Usage Billing Overview"
    _auto = False
    _table_query = "SELECT id, id AS company_id FROM res_company"
    _rec_name = "company_id"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    now = fields.Datetime(string="Figures as of", compute="_compute_now")

    day_start = fields.Datetime(string="Today since", compute="_compute_ingestion")
    ingest_request_count = fields.Integer(string="Requests", compute="_compute_ingestion")
    ingest_accepted_count = fields.Integer(string="Accepted", compute="_compute_ingestion")
    ingest_duplicate_count = fields.Integer(string="Duplicates", compute="_compute_ingestion")
    ingest_quarantined_count = fields.Integer(string="Quarantined", compute="_compute_ingestion")
    ingest_rejected_count = fields.Integer(string="Rejected", compute="_compute_ingestion")
    ingest_failed_count = fields.Integer(string="Failed requests", compute="_compute_ingestion")
    last_received_at = fields.Datetime(
        string="Last event received at", compute="_compute_ingestion"
    )
    last_received_age = fields.Char(string="Last event received", compute="_compute_ingestion")

    quarantine_count = fields.Integer(string="In quarantine", compute="_compute_quarantine")
    quarantine_oldest_at = fields.Datetime(string="Oldest since", compute="_compute_quarantine")
    quarantine_oldest_age = fields.Char(string="Oldest waits", compute="_compute_quarantine")
    quarantine_oldest_id = fields.Many2one(
        "usage.event", string="Oldest quarantined", compute="_compute_quarantine"
    )
    quarantine_reason_ids = fields.One2many(
        "usage.billing.overview.quarantine", "overview_id", string="Quarantine by reason"
    )

    to_approve_count = fields.Integer(string="To approve", compute="_compute_statements")
    to_approve_amounts = fields.Char(string="Amount to approve", compute="_compute_statements")

    unbilled_event_count = fields.Integer(string="Unbilled events", compute="_compute_unbilled")

    reconciliation_since = fields.Date(
        string="Periods ended since", compute="_compute_reconciliation"
    )
    variance_line_count = fields.Integer(
        string="Lines with variance", compute="_compute_reconciliation"
    )
    reconciled_line_count = fields.Integer(
        string="Lines reconciled", compute="_compute_reconciliation"
    )

    # ---------------------------------------------------------------- opening

    @api.depends("company_id")
    def _compute_display_name(self):
        # Named as its menu, like Odoo's Settings: the breadcrumb back from a
        # figure's list reads "Overview" (the form's title names the company).
        for overview in self:
            overview.display_name = self.env._("Overview")

    @api.model
    def action_open(self):
        """Menu: the overview of the current company."""
        return {
            "type": "ir.actions.act_window",
            # The menu's action: the web client finds the app (its menus) by the id
            # of the action it shows, when the URL names the menu's action by its
            # XML id (/odoo/action-usage_billing_connector.usage_billing_overview_action).
            "id": self.env.ref("usage_billing_connector.usage_billing_overview_action").id,
            "name": self.env._("Overview"),
            "res_model": self._name,
            "res_id": self.env.company.id,
            "view_mode": "form",
            "views": [
                (
                    self.env.ref("usage_billing_connector.usage_billing_overview_view_form").id,
                    "form",
                )
            ],
            "target": "current",
        }

    def action_refresh(self):
        """Button: nothing to do, the form reads the figures again after it."""
        return True

    # ---------------------------------------------------------------- figures

    def _compute_now(self):
        for overview in self:
            overview.now = fields.Datetime.now()

    def _day_start(self):
        """Midnight of the user's today, as naive UTC (what the database stores)."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        local_now = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        midnight = tz.localize(datetime.combine(local_now.date(), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _fetch(self, query, params):
        self.env.cr.execute(query, params)
        return self.env.cr.fetchone()

    def _compute_ingestion(self):
        self.env["usage.ingest.log"].flush_model()
        since = self._day_start()
        now = fields.Datetime.now()
        for overview in self:
            params = {"company_id": overview.company_id.id, "since": since}
            requests, accepted, duplicates, quarantined, rejected, failed = self._fetch(
                INGESTION_SQL, params
            )
            last = self._fetch(LAST_RECEIVED_SQL, params)
            overview.update(
                {
                    "day_start": since,
                    "ingest_request_count": requests,
                    "ingest_accepted_count": accepted,
                    "ingest_duplicate_count": duplicates,
                    "ingest_quarantined_count": quarantined,
                    "ingest_rejected_count": rejected,
                    "ingest_failed_count": failed,
                    "last_received_at": last[0] if last else False,
                    "last_received_age": self.env._(
                        "%s ago", age_label((now - last[0]).total_seconds())
                    )
                    if last
                    else self.env._("None yet"),
                }
            )

    def _compute_quarantine(self):
        self.env["usage.event"].flush_model()
        now = fields.Datetime.now()
        for overview in self:
            count, oldest_at, oldest_id = self._fetch(
                QUARANTINE_SQL, {"company_id": overview.company_id.id}
            )
            overview.quarantine_count = count
            overview.quarantine_oldest_at = oldest_at
            overview.quarantine_oldest_age = (
                age_label((now - oldest_at).total_seconds()) if oldest_at else ""
            )
            overview.quarantine_oldest_id = oldest_id or False

    def _compute_statements(self):
        statements = self.env["usage.statement"]
        for overview in self:
            groups = statements._read_group(
                self._statements_to_approve_domain(overview.company_id),
                ["currency_id"],
                ["__count", "amount_untaxed:sum"],
            )
            overview.to_approve_count = sum(count for _currency, count, _amount in groups)
            overview.to_approve_amounts = " + ".join(
                format_amount(self.env, amount, currency)
                for currency, _count, amount in sorted(groups, key=lambda g: g[0].name)
            )

    def _compute_unbilled(self):
        events = self.env["usage.event"]
        for overview in self:
            # Counted on the subquery itself: the same ids as the list's domain
            # (_unbilled_domain), without probing the events by id one by one.
            company_events = events.with_context(allowed_company_ids=overview.company_id.ids)
            self.env.cr.execute(
                SQL("SELECT count(*) FROM (%s) unbilled", company_events._closed_unbilled_sql())
            )
            overview.unbilled_event_count = self.env.cr.fetchone()[0]

    def _reconciliation_since(self):
        return fields.Date.context_today(self) - timedelta(days=RECONCILIATION_DAYS)

    def _compute_reconciliation(self):
        reconciliation = self.env["usage.reconciliation"]
        # The view reads statements, lines, events and invoice lines in SQL.
        self.env.flush_all()
        since = self._reconciliation_since()
        for overview in self:
            domain = self._reconciliation_domain(overview.company_id)
            overview.reconciliation_since = since
            overview.reconciled_line_count = reconciliation.search_count(domain)
            overview.variance_line_count = reconciliation.search_count(
                domain + self._variance_domain()
            )

    # ---------------------------------------------------------------- domains

    @api.model
    def _statements_to_approve_domain(self, company):
        return [("company_id", "=", company.id), ("state", "=", "to_approve")]

    @api.model
    def _unbilled_domain(self, company):
        return [("company_id", "=", company.id), ("closed_unbilled", "=", True)]

    def _reconciliation_domain(self, company):
        since = datetime.combine(self._reconciliation_since(), time.min)
        return [("company_id", "=", company.id), ("period_end", ">=", since)]

    @api.model
    def _variance_domain(self):
        return ["|", ("quantity_variance", "!=", 0), ("amount_variance", "!=", 0)]

    def _ingest_log_domain(self):
        return [
            ("company_id", "=", self.company_id.id),
            ("endpoint", "=", "events"),
            ("create_date", ">=", self._day_start()),
        ]
