"""CRM deliveries: the CRM-facing records of the outbox of ``usage_billing_connector``.

Updates carry no payload: the account status is computed when the message is
sent (a batch of tenants at a time), so a retried or coalesced message always
sends the newest state.  Alerts carry the payload stored when they were detected.
"""

from odoo import api, fields, models

from ..core.clients import AccountUpdate, Alert
from ..core.mapping import apply_mapping

KINDS = [("update", "Account update"), ("alert", "Alert")]


class CrmSyncMessage(models.Model):
    _name = "crm.sync.message"
    _inherit = ["usage.outbox.message"]
    _description = "CRM Sync Message"
    _check_company_auto = True

    _outbox_destination_field = "backend_id"
    _outbox_coalesce_fields = ("backend_id", "tenant_id", "kind", "dedup_key")
    _outbox_attempt_model = "crm.sync.attempt"

    backend_id = fields.Many2one(
        "crm.sync.backend", required=True, index=True, ondelete="cascade", readonly=True
    )
    tenant_id = fields.Many2one(
        "usage.tenant", required=True, index=True, ondelete="cascade", readonly=True
    )
    kind = fields.Selection(KINDS, required=True, readonly=True)
    dedup_key = fields.Char(
        help="Alerts: metric, threshold and period; updates: empty (one per tenant)."
    )
    payload = fields.Json(help="Alert content; updates are computed at send time.")
    remote_id = fields.Char(string="CRM record")
    attempt_ids = fields.One2many("crm.sync.attempt", "message_id", readonly=True)

    # The operations overview's "delivered in the last 24 h" of each backend.
    _delivered_idx = models.Index("(backend_id, sent_date) WHERE state = 'done'")
    _pending_uniq = models.UniqueIndex(
        "(backend_id, tenant_id, kind, dedup_key) WHERE state = 'pending'",
        "Only one pending message per backend, tenant and kind.",
    )

    @api.depends("tenant_id", "kind", "backend_id")
    def _compute_display_name(self):
        labels = dict(KINDS)
        for message in self:
            message.display_name = (
                f"{message.backend_id.name}: {labels.get(message.kind)} "
                f"{message.tenant_id.external_id or ''}"
            )

    @api.model
    def _enqueue(self, backends, tenants, kind="update", payload=None, dedup_key="", schedule=True):
        """Write (or coalesce into) the pending message of each (backend, tenant) of a company."""
        rows = [
            {
                "backend_id": backend.id,
                "company_id": backend.company_id.id,
                "tenant_id": tenant.id,
                "kind": kind,
                "dedup_key": dedup_key,
                "payload": payload,
            }
            for backend in backends.filtered("active")
            for tenant in tenants
            if backend.company_id == tenant.company_id
        ]
        return self._outbox_write(rows, schedule=schedule)

    # ------------------------------------------------------------------ delivery

    def _occurred_at(self):
        return self.event_date.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _account_update(self, statuses, mapping):
        """This update as plain data for a client (``statuses`` by tenant id)."""
        self.ensure_one()
        status = statuses[self.tenant_id.id]
        return AccountUpdate(
            tenant=self.tenant_id.external_id,
            properties=apply_mapping(status, mapping),
            status=status,
            occurred_at=self._occurred_at(),
            key=f"crm-sync-{self.id}-{self.revision}",
        )

    def _alert(self, statuses, mapping):
        """This alert as plain data for a client, with the account's current properties."""
        self.ensure_one()
        status = statuses[self.tenant_id.id]
        return Alert(
            tenant=self.tenant_id.external_id,
            subject=self.payload["subject"],
            body=self.payload["body"],
            properties=apply_mapping(status, mapping),
            status=status,
            payload=self.payload,
            occurred_at=self._occurred_at(),
            key=f"crm-sync-{self.id}-{self.revision}",
        )

    def _attempt_extra_values(self):
        return {"backend_id": self.backend_id.id}

    def _remote_id_in(self, result):
        return result.external_ids.get(self.tenant_id.external_id) or result.remote_id
