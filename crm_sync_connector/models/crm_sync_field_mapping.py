from odoo import fields, models

from ..core.mapping import METRIC_KEYS, STATUS_KEYS

KEYS = [(key, key) for key in (*STATUS_KEYS, *METRIC_KEYS)]


class CrmSyncFieldMapping(models.Model):
    """Our status key -> the CRM property it is written to, per backend."""

    _name = "crm.sync.field.mapping"
    _description = "CRM Sync Field Mapping"
    _order = "backend_id, key"

    backend_id = fields.Many2one("crm.sync.backend", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    key = fields.Selection(KEYS, required=True)
    remote_name = fields.Char(
        string="CRM property",
        required=True,
        help="Property / field name in the CRM; for usage keys, {metric} is replaced "
        "by the metric code.",
    )
    active = fields.Boolean(default=True)

    _backend_key_uniq = models.Constraint(
        "UNIQUE(backend_id, key)", "A key is mapped once per backend."
    )
