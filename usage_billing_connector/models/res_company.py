from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    # Prepaid credits: where each side of a credit's life is booked (README, "Accounting").
    usage_credit_product_id = fields.Many2one(
        "product.product",
        string="Prepaid credit product",
        help="Product of the invoice lines that sell prepaid credit.",
    )
    usage_credit_liability_account_id = fields.Many2one(
        "account.account",
        string="Prepaid credit liability account",
        help="Customer prepayments / deferred revenue: credited when credit is sold, "
        "debited when it is consumed on a usage invoice, expires or is refunded.",
    )
    usage_credit_breakage_account_id = fields.Many2one(
        "account.account",
        string="Expired credit account",
        help="Income (breakage) recognised when purchased credit expires unused.",
    )
    usage_credit_promo_account_id = fields.Many2one(
        "account.account",
        string="Promotional credit account",
        help="Discount / promotion account debited when granted (free) credit pays a usage "
        "invoice: it never reaches revenue as cash.",
    )
    usage_credit_available_on = fields.Selection(
        [("posted", "When the invoice is posted"), ("paid", "When the invoice is paid")],
        string="Purchased credit available",
        default="paid",
        required=True,
    )
    usage_credit_pay_fees = fields.Boolean(
        string="Credits pay recurring fees",
        help="Credits pay usage charges and commitment true-ups; with this, recurring fees too.",
    )
