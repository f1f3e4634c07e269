"""What the operations overview shows of each CRM backend, and the lists behind it."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.usage_billing_connector.core.period_label import age_label
from odoo.addons.usage_billing_connector.utils.actions import list_action
from odoo.exceptions import MissingError

#: One pass over the backends' messages: pending and dead on the state index,
#: deliveries of the last 24 h on the partial index of delivered messages.
BACKEND_FIGURES_SQL = """
SELECT backend_id,
       count(*) FILTER (WHERE state = 'pending'),
       count(*) FILTER (WHERE state = 'dead'),
       min(create_date) FILTER (WHERE state = 'pending'),
       count(*) FILTER (WHERE state = 'done' AND sent_date >= %(since)s)
  FROM crm_sync_message
 WHERE backend_id = ANY(%(ids)s)
   AND (state IN ('pending', 'dead') OR (state = 'done' AND sent_date >= %(since)s))
 GROUP BY backend_id
"""


#: The figures whose lists have a URL of their own (``crm-sync-backend-<figure>-
#: messages``, server actions in ``views/crm_sync_backend_figure_urls.xml``).
MESSAGE_FIGURES = ("pending", "dead", "delivered")


class CrmSyncBackend(models.Model):
    _inherit = "crm.sync.backend"  # pylint: disable=consider-merging-classes-inherited

    pending_count = fields.Integer(string="Pending", compute="_compute_delivery_figures")
    dead_count = fields.Integer(string="Dead", compute="_compute_delivery_figures")
    oldest_pending_at = fields.Datetime(
        string="Oldest pending since", compute="_compute_delivery_figures"
    )
    oldest_pending_age = fields.Char(
        string="Oldest pending waits", compute="_compute_delivery_figures"
    )
    delivered_24h_count = fields.Integer(
        string="Delivered (24 h)", compute="_compute_delivery_figures"
    )

    def _delivery_since(self):
        return fields.Datetime.now() - timedelta(hours=24)

    def _compute_delivery_figures(self):
        self.env["crm.sync.message"].flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(BACKEND_FIGURES_SQL, {"ids": self.ids, "since": self._delivery_since()})
        figures = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for backend in self:
            pending, dead, oldest, delivered = figures.get(backend.id, (0, 0, None, 0))
            backend.pending_count = pending
            backend.dead_count = dead
            backend.oldest_pending_at = oldest or False
            backend.oldest_pending_age = age_label((now - oldest).total_seconds()) if oldest else ""
            backend.delivered_24h_count = delivered

    def _messages_action(self, figure, name, domain):
        """The messages behind ``figure``; its URL is the figure's path after the
        backend (``/odoo/usage-billing-overview/<company>/<backend>/crm-sync-backend-
        <figure>-messages``): a reload or a new tab lists the same messages."""
        self.ensure_one()
        return list_action(
            self.env,
            "crm_sync_connector.crm_sync_message_action",
            [("backend_id", "=", self.id), *domain],
            f"{self.name}: {name}",
            path=f"crm-sync-backend-{figure}-messages",
        )

    @api.model
    def _open_messages_figure(self, figure):
        """Server actions of the figures' URLs: ``figure``'s list of the backend the
        URL names (``active_id``)."""
        if figure not in MESSAGE_FIGURES:
            raise ValueError(f"no such figure: {figure}")
        backend = self.browse(self.env.context.get("active_id") or ()).exists()
        if not backend:
            raise MissingError(self.env._("This CRM backend does not exist any more."))
        return getattr(backend, f"action_open_{figure}_messages")()

    def action_open_pending_messages(self):
        return self._messages_action("pending", self.env._("Pending"), [("state", "=", "pending")])

    def action_open_dead_messages(self):
        return self._messages_action("dead", self.env._("Dead"), [("state", "=", "dead")])

    def action_open_delivered_messages(self):
        return self._messages_action(
            "delivered",
            self.env._("Delivered in the last 24 h"),
            [("state", "=", "done"), ("sent_date", ">=", self._delivery_since())],
        )
