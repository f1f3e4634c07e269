from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    usage_statement_line_id = fields.Many2one(
        "usage.statement.line", index="btree_not_null", copy=False, readonly=True
    )
