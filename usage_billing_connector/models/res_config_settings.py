from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..utils.params import DEFAULTS, MINIMUMS, get_bool_param


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

    usage_billing_retention_months = fields.Integer(
        string="Keep raw usage (months)",
        help="Raw events of invoiced periods older than this may be compacted into one summary "
        "per statement line (0: keep every event). Preview first from Usage → Compaction.",
        config_parameter="usage_billing.retention_months",
        default=DEFAULTS["retention_months"],
    )

    usage_billing_require_approval = fields.Boolean(
        string="Require approval",
        help="Statements wait for an accountant's approval before their invoice is drafted.",
    )
    usage_billing_late_usage_policy = fields.Selection(
        [
            ("next_statement", "Bill on the next statement (labelled with its period)"),
            ("quarantine", "Quarantine for review"),
        ],
        string="Late usage",
        config_parameter="usage_billing.late_usage_policy",
        default=DEFAULTS["late_usage_policy"],
    )

    usage_post_and_send = fields.Boolean(related="company_id.usage_post_and_send", readonly=False)
    usage_auto_collect = fields.Boolean(related="company_id.usage_auto_collect", readonly=False)
    usage_credit_product_id = fields.Many2one(
        related="company_id.usage_credit_product_id", readonly=False
    )
    usage_credit_liability_account_id = fields.Many2one(
        related="company_id.usage_credit_liability_account_id", readonly=False
    )
    usage_credit_breakage_account_id = fields.Many2one(
        related="company_id.usage_credit_breakage_account_id", readonly=False
    )
    usage_credit_promo_account_id = fields.Many2one(
        related="company_id.usage_credit_promo_account_id", readonly=False
    )
    usage_credit_available_on = fields.Selection(
        related="company_id.usage_credit_available_on", readonly=False
    )
    usage_credit_pay_fees = fields.Boolean(
        related="company_id.usage_credit_pay_fees", readonly=False
    )

    @api.constrains(*(f"usage_billing_{name}" for name in MINIMUMS))
    def _check_usage_billing_limits(self):
        for settings in self:
            for name, minimum in MINIMUMS.items():
                field = settings._fields[f"usage_billing_{name}"]
                if settings[field.name] < minimum:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s must be at least %(minimum)s.",
                            setting=field.string,
                            minimum=minimum,
                        )
                    )

    # A Boolean stored as config_parameter is unset (False) by default, and the
    # default here is True: store it explicitly as "True"/"False".
    def get_values(self):
        values = super().get_values()
        values["usage_billing_require_approval"] = get_bool_param(self.env, "require_approval")
        return values

    def set_values(self):
        result = super().set_values()
        # sudo: as for every config_parameter setting (only settings admins get here).
        self.env["ir.config_parameter"].sudo().set_param(
            "usage_billing.require_approval", str(bool(self.usage_billing_require_approval))
        )
        return result
