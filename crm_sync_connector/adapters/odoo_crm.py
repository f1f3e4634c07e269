"""Odoo CRM as a CRM backend: partner and opportunity fields, alert activities.

Same interface as the HTTP clients of ``core.clients`` (``push_updates``,
``push_alert``, ``test_connection``), but it writes records of this database,
so it lives in the Odoo shell and is built around the backend record.
"""

from ..core.clients import DeliveryResult


class OdooCrmClient:
    label = "Odoo CRM"
    batch_size = 100

    def __init__(self, backend):
        self.backend = backend
        self.env = backend.env

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.record)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def _partner(self, tenant):
        tenant = self.env["usage.tenant"].search(
            [("company_id", "=", self.backend.company_id.id), ("external_id", "=", tenant)],
            limit=1,
        )
        return tenant.partner_id.commercial_partner_id

    def _apply(self, message, write):
        """``write(partner, message)`` in a savepoint: one account's failure is its result."""
        try:
            with self.env.cr.savepoint():
                remote_id = write(self._partner(message.tenant), message)
        except Exception as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        return DeliveryResult(ok=True, remote_id=remote_id)

    def push_updates(self, updates):
        return [self._apply(update, self._update) for update in updates]

    def push_alert(self, alert):
        return self._apply(alert, self._alert)

    def _update(self, partner, update):
        partner._crm_sync_update(self.backend, update)
        return None

    def _alert(self, partner, alert):
        return partner._crm_sync_alert(self.backend, alert)

    def test_connection(self):
        return DeliveryResult(ok=True)
