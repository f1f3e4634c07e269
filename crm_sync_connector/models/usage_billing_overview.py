from odoo import api, fields, models


class UsageBillingOverview(models.Model):
    """The operations overview also shows the CRM backends' deliveries."""

    _inherit = "usage.billing.overview"

    crm_backend_ids = fields.Many2many(
        "crm.sync.backend",
        string="CRM backends",
        compute="_compute_crm_backend_ids",
        groups="crm_sync_connector.group_crm_sync_user",
    )

    @api.depends("company_id")
    def _compute_crm_backend_ids(self):
        backends = self.env["crm.sync.backend"]
        for overview in self:
            overview.crm_backend_ids = backends.search(
                [("company_id", "=", overview.company_id.id)]
            )
