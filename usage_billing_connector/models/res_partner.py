from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    usage_credit_grant_ids = fields.One2many(
        "usage.credit.grant", "partner_id", string="Prepaid credits", readonly=True
    )
    usage_credit_summary = fields.Char(
        string="Prepaid credit", compute="_compute_usage_credit_summary"
    )

    def _compute_usage_credit_summary(self):
        # sudo: a salesperson reading the customer sees its balance, not the grants.
        tenants = self.env["usage.tenant"].sudo().search([("partner_id", "in", self.ids)])
        for partner in self:
            mine = tenants.filtered(lambda t, p=partner: t.partner_id == p)
            parts = []
            for tenant in mine:
                text = f"{tenant.external_id}: {tenant.currency_id.format(tenant.credit_balance)}"
                if tenant.credit_expiries:
                    text += f" (expiring {tenant.credit_expiries})"
                parts.append(text)
            partner.usage_credit_summary = "; ".join(parts)
