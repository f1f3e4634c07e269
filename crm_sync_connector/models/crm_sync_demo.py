from odoo import api, models
from odoo.addons.usage_billing_connector.utils.outbox_outcome import record_dead

from ..core.clients import DeliveryResult


class CrmSyncDemo(models.AbstractModel):
    """Demo outbox traffic: every tenant pushed, thresholds fired, one message dead."""

    _name = "crm.sync.demo"
    _description = "CRM Sync Demo Data"

    @api.model
    def _populate(self):
        # Jobs run at once: the demo shows delivered messages right after install.
        env = self.with_context(queue_job__no_delay=True).env
        env["crm.sync.backend"]._cron_full_refresh()
        env["crm.sync.threshold.alert"]._cron_check_thresholds()
        backend = self.env.ref("crm_sync_connector.demo_backend_odoo")
        globex = self.env.ref("usage_billing_connector.demo_tenant_globex")
        message = env["crm.sync.message"]._enqueue(backend, globex, schedule=False)
        outage = DeliveryResult(
            ok=False, error="Demo: the CRM could not be reached (simulated outage)."
        )
        return record_dead(message, outage)
