"""One entry point for the facts the product platform (and the CRM) must learn.

``tenant._usage_notify(event_type, data)`` writes one webhook delivery per
endpoint of the tenant's company that receives the type, in the caller's
transaction (the transactional outbox: no event for a change rolled back).
Other addons extend ``_usage_dispatch`` (``crm_sync_connector`` raises CRM alerts
on some types), with the event's ``id`` to dedupe on.
"""

from odoo import fields, models

from ..core import webhook_events


class UsageTenant(models.Model):
    _inherit = "usage.tenant"  # pylint: disable=consider-merging-classes-inherited

    def _usage_notify(self, event_type, data, created_at=None):
        """Emit ``event_type`` with ``data`` for each tenant of ``self``; the deliveries."""
        moment = created_at or fields.Datetime.now()
        deliveries = self.env["usage.webhook.delivery"].sudo()
        for tenant in self:
            event = webhook_events.envelope(event_type, tenant.external_id, data, created_at=moment)
            deliveries |= tenant._usage_dispatch(event)
        return deliveries

    def _usage_dispatch(self, event):
        """Deliver one event (an envelope) of this tenant; extended by other addons."""
        self.ensure_one()
        # sudo: the change that emits an event (an invoice paid, a cron's dunning
        # step) is made by users without rights on webhook endpoints; endpoints
        # are looked up, never exposed, and the outbox rows are technical.
        endpoints = (
            self.env["usage.webhook.endpoint"]
            .sudo()
            .search([("company_id", "=", self.company_id.id)])
        )
        return self.env["usage.webhook.delivery"].sudo()._enqueue_event(endpoints, event)
