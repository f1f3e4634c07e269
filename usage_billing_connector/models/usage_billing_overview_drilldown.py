"""Usage Billing → Overview: each figure opens the list behind it, under its name.

Each list's URL names a server action (``views/usage_billing_overview_urls.xml``)
that opens the same list again, so it survives a reload or a new tab.
"""

from odoo import api, models

from ..core.quarantine import REASONS
from ..utils.actions import form_action, list_action

#: Figures whose list has its own URL (``usage-billing-overview-<figure>``, a
#: server action calling ``action_open_<figure>``): a reload or a new tab opens
#: the same records under the same title.
URL_FIGURES = (
    "ingestion",
    "ingestion_accepted",
    "ingestion_duplicates",
    "ingestion_quarantined",
    "ingestion_rejected",
    "ingestion_failed",
    "last_received",
    "quarantine",
    "to_approve",
    "unbilled",
    "reconciliation",
    "variance",
)


def figure_path(figure):
    """The URL path of ``figure``'s list: its server action's ``path``."""
    return "usage-billing-overview-" + figure.replace("_", "-")


class UsageBillingOverview(models.Model):
    _inherit = "usage.billing.overview"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _open_figure(self, figure):
        """The list of ``figure`` (server actions of the figures' URLs), as its button
        opens it, on the overview of the URL (``active_id``) or the current company's."""
        if figure not in URL_FIGURES:
            raise ValueError(f"no such figure: {figure}")
        return getattr(self._url_overview(), f"action_open_{figure}")()

    @api.model
    def _open_quarantine_reason(self, reason):
        """The quarantined events held for ``reason`` (server actions of the reasons'
        URLs) on the overview of the URL (``active_id``) or the current company's."""
        if reason not in REASONS:
            raise ValueError(f"no such quarantine reason: {reason}")
        return self.env["usage.billing.overview.quarantine"]._reason_action(
            self._url_overview().company_id, reason
        )

    @api.model
    def _url_overview(self):
        """The overview a figure's URL names (``active_id``), else the current company's."""
        return self.browse(self.env.context.get("active_id") or self.env.company.id)

    def _list_action(self, figure, xmlid, domain, name=None, context=None):
        self.ensure_one()
        return list_action(self.env, xmlid, domain, name, context, path=figure_path(figure))

    def action_open_ingestion(self):
        return self._ingest_action("ingestion", self.env._("Ingestion today"), [])

    def action_open_ingestion_accepted(self):
        return self._ingest_action(
            "ingestion_accepted",
            self.env._("Requests with accepted events today"),
            [("accepted", ">", 0)],
        )

    def action_open_ingestion_duplicates(self):
        return self._ingest_action(
            "ingestion_duplicates",
            self.env._("Requests with duplicates today"),
            [("duplicates", ">", 0)],
        )

    def action_open_ingestion_quarantined(self):
        return self._ingest_action(
            "ingestion_quarantined",
            self.env._("Requests with quarantined events today"),
            [("quarantined", ">", 0)],
        )

    def action_open_ingestion_rejected(self):
        return self._ingest_action(
            "ingestion_rejected",
            self.env._("Requests with rejected events today"),
            [("rejected", ">", 0)],
        )

    def action_open_ingestion_failed(self):
        return self._ingest_action(
            "ingestion_failed", self.env._("Failed requests today"), [("http_status", ">=", 400)]
        )

    def _ingest_action(self, figure, name, extra):
        return self._list_action(
            figure,
            "usage_billing_connector.usage_ingest_log_action",
            self._ingest_log_domain() + extra,
            name,
        )

    def action_open_last_received(self):
        """The ingestion log, newest first: the last request that brought events on top."""
        domain = [
            ("company_id", "=", self.company_id.id),
            ("endpoint", "=", "events"),
            "|",
            "|",
            ("accepted", ">", 0),
            ("duplicates", ">", 0),
            ("quarantined", ">", 0),
        ]
        return self._list_action(
            "last_received",
            "usage_billing_connector.usage_ingest_log_action",
            domain,
            self.env._("Events received"),
        )

    def action_open_quarantine(self):
        return self._list_action(
            "quarantine",
            "usage_billing_connector.usage_event_action_quarantine",
            [("company_id", "=", self.company_id.id), ("state", "=", "quarantined")],
            context={"search_default_by_reason": 1},
        )

    def action_open_quarantine_oldest(self):
        self.ensure_one()
        if not self.quarantine_oldest_id:
            return self.action_open_quarantine()
        return dict(form_action(self.quarantine_oldest_id), target="current")

    def action_open_to_approve(self):
        return self._list_action(
            "to_approve",
            "usage_billing_connector.usage_statement_action",
            self._statements_to_approve_domain(self.company_id),
            self.env._("Statements to approve"),
        )

    def action_open_unbilled(self):
        return self._list_action(
            "unbilled",
            "usage_billing_connector.usage_event_action",
            self._unbilled_domain(self.company_id),
            self.env._("Unbilled usage of closed periods"),
        )

    def action_open_reconciliation(self):
        return self._list_action(
            "reconciliation",
            "usage_billing_connector.usage_reconciliation_action",
            self._reconciliation_domain(self.company_id),
            self.env._("Reconciliation of recent periods"),
        )

    def action_open_variance(self):
        return self._list_action(
            "variance",
            "usage_billing_connector.usage_reconciliation_action",
            self._reconciliation_domain(self.company_id) + self._variance_domain(),
            self.env._("Reconciliation variances"),
        )
