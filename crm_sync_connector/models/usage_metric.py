from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core.thresholds import parse_thresholds


class UsageMetric(models.Model):
    _inherit = "usage.metric"

    crm_alert_thresholds = fields.Char(
        string="CRM alert thresholds (%)",
        default="80,100",
        help="Percentages of the plan's included allowance that raise a CRM alert, "
        "each once per billing period (comma separated).",
    )

    @api.constrains("crm_alert_thresholds")
    def _check_crm_alert_thresholds(self):
        for metric in self:
            try:
                parse_thresholds(metric.crm_alert_thresholds)
            except ValueError as exc:
                raise ValidationError(self.env._("Invalid CRM alert thresholds: %s", exc)) from None
