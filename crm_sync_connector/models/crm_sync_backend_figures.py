"""What the operations overview shows of each CRM backend, and the lists behind it."""

from datetime import timedelta

from odoo import fields, models
from odoo.addons.usage_billing_connector.core.period_label import age_label
from odoo.addons.usage_billing_connector.utils.actions import list_action

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

    def _messages_action(self, name, domain):
        self.ensure_one()
        return list_action(
            self.env,
            "crm_sync_connector.crm_sync_message_action",
            [("backend_id", "=", self.id), *domain],
            f"{self.name}: {name}",
        )

    def action_open_pending_messages(self):
        return self._messages_action(self.env._("Pending"), [("state", "=", "pending")])

    def action_open_dead_messages(self):
        return self._messages_action(self.env._("Dead"), [("state", "=", "dead")])

    def action_open_delivered_messages(self):
        return self._messages_action(
            self.env._("Delivered in the last 24 h"),
            [("state", "=", "done"), ("sent_date", ">=", self._delivery_since())],
        )
