from odoo import api, fields, models

from ..core import dunning


class ResCompany(models.Model):
    _inherit = "res.company"

    usage_post_and_send = fields.Boolean(
        string="Post and send usage invoices on approval",
        help="Approving a usage statement posts its invoice and emails it to the customer "
        "with its portal link (Odoo's invoice sending).",
    )
    usage_auto_collect = fields.Boolean(
        string="Charge saved payment methods",
        default=True,
        help="A posted usage invoice is charged at once on the customer's saved payment "
        "method, when its provider supports tokenized payments.",
    )
    usage_dunning_step_ids = fields.One2many(
        "usage.dunning.step", "company_id", string="Dunning policy"
    )

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

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._usage_default_dunning_steps()
        return companies

    def _usage_default_dunning_steps(self):
        """Give each company without a policy the default one (``core.dunning``)."""
        # sudo: companies are created by settings admins who may lack usage rights.
        steps = self.env["usage.dunning.step"].sudo().with_context(active_test=False)
        with_policy = set(steps.search([("company_id", "in", self.ids)]).company_id.ids)
        steps.create(
            [
                {
                    "company_id": company.id,
                    "sequence": sequence,
                    "trigger": trigger,
                    "days": days,
                    "action": action,
                }
                for company in self
                if company.id not in with_policy
                for sequence, trigger, days, action in dunning.DEFAULT_STEPS
            ]
        )

    @api.model
    def _usage_install_dunning_policies(self):
        """Data function of the install: every existing company gets the defaults."""
        self.search([])._usage_default_dunning_steps()  # pylint: disable=no-search-all
