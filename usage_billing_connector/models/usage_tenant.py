from odoo import api, fields, models
from odoo.exceptions import ValidationError


class UsageTenant(models.Model):
    _name = "usage.tenant"
    _description = "Usage Tenant"
    _inherit = ["mail.thread"]
    _order = "external_id"
    _rec_names_search = ["external_id", "partner_id"]
    _check_company_auto = True

    external_id = fields.Char(
        string="External ID",
        required=True,
        tracking=True,
        help="The tenant's id in the product, as sent in usage events.",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, tracking=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        tracking=True,
    )
    state = fields.Selection(
        [("active", "Active"), ("suspended", "Suspended"), ("closed", "Closed")],
        required=True,
        default="active",
        tracking=True,
    )
    quarantined_count = fields.Integer(compute="_compute_quarantined_count")

    _external_id_company_uniq = models.Constraint(
        "UNIQUE(company_id, external_id)", "A tenant's external ID is unique per company."
    )

    @api.constrains("currency_id")
    def _check_subscription_currency(self):
        subscriptions = self.env["usage.subscription"].search(
            [("tenant_id", "in", self.ids), ("state", "!=", "cancelled")]
        )
        for sub in subscriptions:
            if sub.plan_id.currency_id != sub.tenant_id.currency_id:
                raise ValidationError(
                    self.env._(
                        "Tenant %(tenant)s has an open subscription to a plan priced in "
                        "%(currency)s: move it to a price list in the new currency first.",
                        tenant=sub.tenant_id.external_id,
                        currency=sub.plan_id.currency_id.name,
                    )
                )

    @api.depends("external_id", "partner_id")
    def _compute_display_name(self):
        for tenant in self:
            tenant.display_name = f"{tenant.external_id} ({tenant.partner_id.name or ''})"

    def _compute_quarantined_count(self):
        # By the id as sent: an event quarantined because its tenant was unknown
        # has no tenant_id, yet belongs to the tenant mapped later.
        counts = {
            (company.id, tenant_ref): count
            for company, tenant_ref, count in self.env["usage.event"]._read_group(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("tenant_ref", "in", self.mapped("external_id")),
                    ("state", "=", "quarantined"),
                ],
                ["company_id", "tenant_ref"],
                ["__count"],
            )
        }
        for tenant in self:
            tenant.quarantined_count = counts.get((tenant.company_id.id, tenant.external_id), 0)
