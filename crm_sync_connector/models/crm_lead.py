from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    crm_sync_health_score = fields.Integer(string="Health score", readonly=True)
    crm_sync_health_label = fields.Char(string="Health", readonly=True)
    crm_sync_usage_summary = fields.Text(string="Usage", readonly=True)
