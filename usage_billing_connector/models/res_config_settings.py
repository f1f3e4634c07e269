from odoo import fields, models

from .usage_billing_params import DEFAULTS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    usage_billing_signature_tolerance = fields.Integer(
        string="Signature tolerance (s)",
        config_parameter="usage_billing.signature_tolerance",
        default=DEFAULTS["signature_tolerance"],
    )
    usage_billing_max_events = fields.Integer(
        string="Events per request",
        config_parameter="usage_billing.max_events",
        default=DEFAULTS["max_events"],
    )
    usage_billing_max_body_bytes = fields.Integer(
        string="Body size limit (bytes)",
        config_parameter="usage_billing.max_body_bytes",
        default=DEFAULTS["max_body_bytes"],
    )
    usage_billing_rate_limit = fields.Integer(
        string="Requests per minute per key",
        help="Default for keys without their own limit; 0 means no limit.",
        config_parameter="usage_billing.rate_limit",
        default=DEFAULTS["rate_limit"],
    )
    usage_billing_log_retention_days = fields.Integer(
        string="Keep ingestion logs (days)",
        config_parameter="usage_billing.log_retention_days",
        default=DEFAULTS["log_retention_days"],
    )
