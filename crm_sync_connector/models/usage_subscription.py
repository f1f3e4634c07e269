from odoo import api, models


class UsageSubscription(models.Model):
    _inherit = "usage.subscription"

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions.tenant_id._crm_sync_notify()
        return subscriptions

    def _apply_change(self, change_type, effective_at, plan=None, seats=None, **event):
        change = super()._apply_change(change_type, effective_at, plan=plan, seats=seats, **event)
        self.tenant_id._crm_sync_notify()
        return change
