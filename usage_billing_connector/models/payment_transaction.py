from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    usage_collection = fields.Boolean(
        readonly=True, help="Automatic charge of a usage invoice (collection or dunning retry)."
    )

    def _post_process(self):
        """Odoo pays and reconciles confirmed charges; failed ones start dunning."""
        result = super()._post_process()
        for tx in self.filtered(lambda t: t.usage_collection and t.state in ("error", "cancel")):
            tx.invoice_ids._usage_charge_failed(tx)
        return result
