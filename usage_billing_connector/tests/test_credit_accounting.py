from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged

from .credit_common import CreditCase


@tagged("post_install", "-at_install")
class TestCreditAccounting(CreditCase):
    """Selling, granting, consuming and expiring credit, read from the journal items."""

    def setUp(self):
        super().setUp()
        self.subscription = self.subscribe(self.plan)

    def test_sold_credit_is_a_liability_available_once_paid(self):
        grant = self.grant(500.0)
        grant.action_confirm()
        invoice = grant.invoice_id
        self.assertEqual((grant.state, invoice.state), ("invoiced", "draft"))
        self.assertEqual(self.ledger_balance(self.partner_a), 0, "nothing owed before posting")
        invoice.action_post()
        self.assertRecordValues(
            self.lines_on(invoice, self.liability), [{"credit": 500.0, "debit": 0.0}]
        )
        self.assertEqual(invoice.amount_tax, 0, "sold as a voucher: taxed when used")
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 500.0)
        self.assertEqual(self.ledger_balance(self.partner_a), 500.0)
        self.assertEqual((grant.state, self.tenant.credit_balance), ("invoiced", 0.0))
        self._register_payment(invoice)
        self.assertEqual((grant.state, self.tenant.credit_balance), ("active", 500.0))
        self.assertLedgerMatchesLiability()
        with self.assertRaises(UserError):
            invoice.button_draft()

    def test_available_on_posting_per_company_setting(self):
        self.company.usage_credit_available_on = "posted"
        grant = self.buy(200.0, pay=False)
        self.assertEqual((grant.state, grant.remaining), ("active", 200.0))

    def test_consumption_across_periods_partial_then_exhausted(self):
        grant = self.buy(100.0)
        # January: 60 of usage, all paid by credit; the customer owes the tax only.
        jan, jan_invoice = self.bill_month(self.subscription, 1, 60)
        self.assertEqual((jan.credit_applied, jan.amount_due), (60.0, 0.0))
        self.assertRecordValues(
            self.lines_on(jan_invoice, self.revenue), [{"credit": 60.0, "debit": 0.0}]
        )
        self.assertRecordValues(
            self.lines_on(jan_invoice, self.liability), [{"debit": 60.0, "credit": 0.0}]
        )
        self.assertEqual(jan_invoice.amount_untaxed, 0.0)
        self.assertEqual(jan_invoice.amount_tax, 9.0, "15% on the usage consumed")
        self.assertEqual(jan_invoice.amount_total, 9.0)
        self.assertEqual(grant.remaining, 40.0)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 40.0)
        self.assertLedgerMatchesLiability()
        # February: 70 of usage, 40 left: the remainder is invoiced.
        feb, feb_invoice = self.bill_month(self.subscription, 2, 70)
        self.assertEqual((feb.credit_applied, feb.amount_due), (40.0, 30.0))
        self.assertEqual(feb_invoice.amount_untaxed, 30.0)
        self.assertEqual(feb_invoice.amount_total, 30.0 + 10.5)
        self.assertRecordValues(self.lines_on(feb_invoice, self.revenue), [{"credit": 70.0}])
        self.assertEqual(grant.remaining, 0.0)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertEqual(self.balance_on(self.revenue, self.partner_a), 130.0)
        self.assertEqual(
            grant.ledger_ids.sorted("id").mapped("kind"), ["purchase", "consume", "consume"]
        )
        # March: no credit left, nothing applied.
        mar, mar_invoice = self.bill_month(self.subscription, 3, 5)
        self.assertEqual((mar.credit_applied, mar_invoice.amount_untaxed), (0.0, 5.0))
        self.assertLedgerMatchesLiability()

    def test_expiring_soonest_first_then_priority(self):
        later = self.buy(50.0, expiry_date=date(2026, 12, 31), priority=1)
        sooner = self.buy(50.0, expiry_date=date(2026, 6, 30), priority=5)
        forever = self.buy(50.0, priority=0)
        statement, _invoice = self.bill_month(self.subscription, 1, 80)
        self.assertEqual(
            [(line.grant_id, line.amount) for line in statement.credit_ledger_ids.sorted("id")],
            [(sooner, -50.0), (later, -30.0)],
        )
        self.assertEqual(forever.remaining, 50.0)
        self.assertLedgerMatchesLiability()

    def test_expiry_posts_breakage_from_the_liability(self):
        grant = self.buy(100.0, expiry_date=date(2026, 3, 31))
        self.bill_month(self.subscription, 1, 30)
        with freeze_time("2026-04-01 06:00:00"):
            self.assertGreaterEqual(self.env["usage.credit.grant"]._expire_due(), 1)
        self.assertEqual((grant.state, grant.remaining), ("expired", 0.0))
        expiry = grant.ledger_ids.filtered(lambda line: line.kind == "expire")
        self.assertEqual(expiry.amount, -70.0)
        self.assertEqual(expiry.move_id.line_ids.partner_id, self.partner_a)
        self.assertRecordValues(
            expiry.move_id.line_ids.sorted("balance"),
            [
                {"account_id": self.breakage.id, "debit": 0.0, "credit": 70.0},
                {"account_id": self.liability.id, "debit": 70.0, "credit": 0.0},
            ],
        )
        self.assertEqual(self.balance_on(self.breakage), 70.0)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertLedgerMatchesLiability()
        # Expired credit pays nothing any more.
        statement, _invoice = self.bill_month(self.subscription, 4, 10)
        self.assertEqual(statement.credit_applied, 0.0)

    def test_granted_credit_is_a_promotion_never_revenue_as_cash(self):
        grant = self.grant(25.0, kind="granted", reason="Outage in January")
        grant.action_confirm()
        self.assertEqual((grant.state, grant.remaining), ("active", 25.0))
        self.assertFalse(grant.invoice_id)
        _statement, invoice = self.bill_month(self.subscription, 1, 40)
        self.assertRecordValues(self.lines_on(invoice, self.revenue), [{"credit": 40.0}])
        self.assertRecordValues(self.lines_on(invoice, self.promo), [{"debit": 25.0}])
        self.assertFalse(self.lines_on(invoice, self.liability))
        self.assertEqual(invoice.amount_untaxed, 15.0)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertEqual(self.ledger_balance(self.partner_a, "granted"), 0.0)
        self.assertLedgerMatchesLiability()

    def test_only_billing_administrators_grant_free_credit(self):
        user = new_test_user(
            self.env,
            "credit_clerk",
            groups="usage_billing_connector.group_usage_billing_user",
            company_id=self.company.id,
        )
        grant = self.grant(10.0, kind="granted")
        with self.assertRaises(AccessError):
            grant.with_user(user).action_confirm()
        with self.assertRaises(UserError):
            self.grant(10.0, kind="granted", reason=" ")

    def test_cancelled_usage_invoice_gives_the_credit_back(self):
        grant = self.buy(100.0)
        statement, invoice = self.bill_month(self.subscription, 1, 60, post=False)
        self.assertEqual(grant.remaining, 40.0)
        invoice.button_cancel()
        self.assertEqual(grant.remaining, 100.0)
        self.assertEqual(statement.credit_applied, 0.0)
        self.assertLedgerMatchesLiability()

    def test_void_sold_credit_refunds_what_is_left(self):
        grant = self.buy(100.0)
        self.bill_month(self.subscription, 1, 30)
        grant.action_void()
        refund = grant.ledger_ids.filtered(lambda line: line.kind == "void").move_id
        self.assertEqual(
            (refund.move_type, refund.state, refund.amount_total), ("out_refund", "posted", 70.0)
        )
        self.assertEqual((grant.state, grant.remaining), ("voided", 0.0))
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertLedgerMatchesLiability()

    def test_credit_pays_recurring_fees_only_when_the_company_says_so(self):
        plan = self._plan("fee", [{"metric_id": self.calls.id, "unit_price": 1.0}], fee=20.0)
        # partner_a: paid at once (partner_b's payment term pays in instalments).
        subscription = self.subscribe(plan, tenant=self._make_tenant("t2", self.partner_a))
        self.tenant = subscription.tenant_id
        self.buy(100.0)
        statement, _invoice = self.bill_month(subscription, 1, 10)
        self.assertEqual((statement.amount_untaxed, statement.credit_applied), (30.0, 10.0))
        self.company.usage_credit_pay_fees = True
        statement, _invoice = self.bill_month(subscription, 2, 10)
        self.assertEqual(statement.credit_applied, 30.0)
        self.assertLedgerMatchesLiability()
