from odoo import api, fields, models

from ..core import statement_lines
from ..core.numbers import to_decimal
from ..utils.display import compute_period_labels

LINE_KINDS = [
    ("fee", "Recurring fee"),
    ("fee_adjustment", "Fee adjustment"),
    ("usage", "Usage"),
    ("late_usage", "Late usage"),
    ("commitment", "Commitment true-up"),
]


class UsageStatementLine(models.Model):
    _name = "usage.statement.line"
    _description = "Usage Statement Line"
    _order = "statement_id, sequence, id"

    statement_id = fields.Many2one("usage.statement", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="statement_id.company_id", store=True)
    tenant_id = fields.Many2one(related="statement_id.tenant_id", store=True, index=True)
    currency_id = fields.Many2one(related="statement_id.currency_id")
    sequence = fields.Integer(default=10)
    kind = fields.Selection(LINE_KINDS, required=True)
    plan_id = fields.Many2one("usage.plan", required=True, index=True)
    metric_id = fields.Many2one("usage.metric", index=True)
    product_id = fields.Many2one("product.product", required=True)
    name = fields.Text(string="Description", required=True)
    period_start = fields.Datetime(help="Start of the period this line bills.")
    period_end = fields.Datetime()
    period_label = fields.Char(string="Period", compute="_compute_period_label")
    quantity = fields.Float(digits=(28, 9), help="Aggregated quantity (or seats).")
    included = fields.Float(digits=(28, 9))
    billable = fields.Float(digits=(28, 9))
    unit_price = fields.Float(digits=(16, 6))
    amount = fields.Monetary(help="Rounded once, with the currency.")
    quantity_digits = fields.Integer(compute="_compute_quantity_digits")
    breakdown = fields.Text(help="Tier by tier, as rated.")
    # The usage a line bills is read, never marked: the events of its tenant,
    # metric and period that the database snapshot of this closing saw and the
    # previous one of the same period did not (utils/event_store.py).
    snapshot_from = fields.Char(
        readonly=True, help="Snapshot of the period's previous billing (empty: the first)."
    )
    snapshot_to = fields.Char(readonly=True, help="Snapshot this line's usage was read in.")

    _billed_idx = models.Index("(tenant_id, metric_id, period_start)")
    invoice_line_ids = fields.One2many("account.move.line", "usage_statement_line_id")

    @api.depends("period_start", "period_end")
    def _compute_period_label(self):
        compute_period_labels(self)

    @api.depends("metric_id.decimal_places")
    def _compute_quantity_digits(self):
        # Fee lines count seats (or a prorated share): exact, no trailing zeros.
        for line in self:
            line.quantity_digits = line.metric_id.decimal_places if line.metric_id else -1

    def _invoice_line_values(self, sign=1):
        """Invoice line of this line; ``sign`` -1 on a credit note (credits show positive)."""
        self.ensure_one()
        currency = self.statement_id.currency_id
        precision = self.env["decimal.precision"]
        quantity, price_unit = statement_lines.invoice_figures(
            sign * to_decimal(self.amount),
            to_decimal(self.billable),
            to_decimal(self.unit_price) if self.unit_price else None,
            currency.decimal_places,
            precision.precision_get("Product Price"),
            precision.precision_get("Product Unit"),
        )
        description = self.name + (f"\n{self.breakdown}" if self.breakdown else "")
        return {
            "product_id": self.product_id.id,
            "name": description,
            "quantity": float(quantity),
            "price_unit": float(price_unit),
            "usage_statement_line_id": self.id,
        }
