from odoo import api, fields, models


class UsageNumberedMixin(models.AbstractModel):
    """A record numbered on creation by the ``ir.sequence`` whose code is its model name.

    Statements and credit grants are numbered this way (``data/usage_billing_data.xml``);
    a record created with a name of its own keeps it.
    """

    _name = "usage.numbered.mixin"
    _description = "Usage Billing Numbered Record"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code(self._name) or "/"
        return super().create(vals_list)
