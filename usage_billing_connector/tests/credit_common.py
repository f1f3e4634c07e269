from datetime import date

from odoo.tests import freeze_time

from .billing_common import BillingCase


class CreditCase(BillingCase):
    """A company set up for prepaid credit, a tenant on a 1.00-per-call plan."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        accounts = cls.env["account.account"]
        cls.liability = accounts.create(
            {
                "code": "229100",
                "name": "Customer prepaid credit",
                "account_type": "liability_current",
            }
        )
        cls.breakage = accounts.create(
            {"code": "758100", "name": "Expired credit (breakage)", "account_type": "income_other"}
        )
        cls.promo = accounts.create(
            {"code": "609100", "name": "Promotional credit", "account_type": "expense"}
        )
        cls.credit_product = cls._service("Prepaid credit")
        cls.company.write(
            {
                "usage_credit_product_id": cls.credit_product.id,
                "usage_credit_liability_account_id": cls.liability.id,
                "usage_credit_breakage_account_id": cls.breakage.id,
                "usage_credit_promo_account_id": cls.promo.id,
                "usage_credit_available_on": "paid",
            }
        )
        cls.calls.product_id.taxes_id = cls.company_data["default_tax_sale"]
        cls.revenue = (
            cls.calls.product_id.property_account_income_id
            or cls.company_data["default_account_revenue"]
        )
        cls.plan = cls._plan("credit", [{"metric_id": cls.calls.id, "unit_price": 1.0}])

    # ------------------------------------------------------------------ helpers

    def grant(self, amount, kind="purchased", tenant=None, **values):
        if kind == "granted":
            values.setdefault("reason", "Goodwill")
        return self.env["usage.credit.grant"].create(
            {"tenant_id": (tenant or self.tenant).id, "kind": kind, "amount": amount, **values}
        )

    def buy(self, amount, pay=True, **values):
        """Sell credit: confirm, post its invoice and (by default) pay it."""
        grant = self.grant(amount, **values)
        grant.action_confirm()
        grant.invoice_id.action_post()
        if pay:
            self._register_payment(grant.invoice_id)
        return grant

    def approve(self, statement, day=date(2026, 2, 2)):
        with freeze_time(day):
            statement.action_approve()
        return statement.invoice_id

    def bill_month(self, subscription, month, quantity, post=True):
        """Usage of 2026-``month``, closed, approved and (by default) posted: the invoice."""
        self.usage(self.calls, quantity, when=f"2026-{month:02d}-15 12:00:00")
        statements = self.close(subscription, now=f"2026-{month + 1:02d}-01 00:00:01")
        statement = statements[-1]
        invoice = self.approve(statement, date(2026, month + 1, 2))
        if post:
            invoice.action_post()
        return statement, invoice

    def balance_on(self, account, partner=None):
        """Credit-positive balance of posted journal items of ``account`` (for ``partner``)."""
        domain = [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return -sum(self.env["account.move.line"].search(domain).mapped("balance"))

    def ledger_balance(self, partner, kind="purchased"):
        ledger = self.env["usage.credit.ledger"].search(
            [("partner_id", "=", partner.id), ("grant_kind", "=", kind)]
        )
        return sum(ledger.mapped("amount"))

    def assertLedgerMatchesLiability(self):
        """For every tenant's customer: sold credit in the ledger == the liability account.

        (The tests post the usage invoices they draft: credit taken at approval is on
        the liability account once its invoice is posted.)
        """
        partners = (
            self.env["usage.tenant"].search([("company_id", "=", self.company.id)]).partner_id
        )
        for partner in partners:
            self.assertAlmostEqual(
                self.ledger_balance(partner), self.balance_on(self.liability, partner), places=2
            )
        for grant in self.env["usage.credit.grant"].search([]):
            self.assertAlmostEqual(grant.remaining, sum(grant.ledger_ids.mapped("amount")), 2)

    def lines_on(self, move, account):
        return move.line_ids.filtered(lambda aml: aml.account_id == account)
