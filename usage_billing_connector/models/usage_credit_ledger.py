from odoo import api, fields, models
from odoo.exceptions import UserError

KINDS = [
    ("purchase", "Purchased"),
    ("grant", "Granted"),
    ("consume", "Consumed"),
    ("release", "Released (invoice cancelled)"),
    ("expire", "Expired"),
    ("void", "Voided / refunded"),
]


class UsageCreditLedger(models.Model):
    """Every movement of a prepaid credit, signed: a grant's balance is the sum of its lines.

    A ``consume`` line is also the consumption record of a statement: the
    partial unique index allows one per (grant, statement), so a statement
    approved twice, or two billing jobs racing on it, cannot spend one credit
    twice.  Lines are never edited nor deleted (append-only).
    """

    _name = "usage.credit.ledger"
    _description = "Prepaid Credit Ledger"
    _order = "id desc"
    _check_company_auto = True

    grant_id = fields.Many2one(
        "usage.credit.grant", required=True, index=True, readonly=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="grant_id.company_id", store=True, index=True)
    tenant_id = fields.Many2one(related="grant_id.tenant_id", store=True, index=True)
    partner_id = fields.Many2one(related="grant_id.partner_id", store=True)
    currency_id = fields.Many2one(related="grant_id.currency_id", store=True)
    grant_kind = fields.Selection(related="grant_id.kind", store=True, string="Credit kind")
    kind = fields.Selection(KINDS, required=True, readonly=True)
    amount = fields.Monetary(required=True, readonly=True, help="Positive in, negative out.")
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    statement_id = fields.Many2one("usage.statement", readonly=True, index="btree_not_null")
    move_id = fields.Many2one("account.move", string="Journal entry", readonly=True)

    _consumed_once = models.UniqueIndex(
        "(grant_id, statement_id) WHERE kind = 'consume'",
        "A credit pays a statement once.",
    )

    def write(self, vals):
        if vals:
            raise UserError(self.env._("Credit ledger lines cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Credit ledger lines cannot be deleted."))
