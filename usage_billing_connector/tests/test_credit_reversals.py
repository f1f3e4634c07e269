from datetime import date

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .credit_common import CreditCase


@tagged("post_install", "-at_install")
class TestCreditReversals(CreditCase):
    """Cancelled and refunded invoices, on either side of a credit, read from the journal.

    Whatever is reversed, the ledger of sold credit equals the liability account
    and an expired credit never becomes spendable again.
    """

    def setUp(self):
        super().setUp()
        self.subscription = self.subscribe(self.plan)

    def expire(self, grant, day="2026-04-01 06:00:00"):
        with freeze_time(day):
            self.env["usage.credit.grant"]._expire_due()
        self.assertEqual(grant.state, "expired")

    def assertExpiredForGood(self, grant, breakage):
        self.assertEqual((grant.state, grant.remaining), ("expired", 0.0))
        self.assertEqual(self.tenant.credit_balance, 0.0)
        self.assertEqual(self.balance_on(self.breakage), breakage)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertLedgerMatchesLiability()

    # ------------------------------------------------------------ usage invoices

    def test_usage_invoice_refunded_gives_the_credit_back(self):
        grant = self.buy(100.0)
        statement, invoice = self.bill_month(self.subscription, 1, 60)
        refund = self._reverse_invoice(invoice, post=True)
        self.assertEqual(grant.remaining, 100.0)
        self.assertEqual(statement.credit_applied, 0.0)
        release = grant.ledger_ids.filtered(lambda line: line.kind == "release")
        self.assertEqual((release.amount, release.move_id), (60.0, refund))
        self.assertRecordValues(self.lines_on(refund, self.liability), [{"credit": 60.0}])
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 100.0)
        self.assertLedgerMatchesLiability()
        with self.assertRaises(UserError):
            refund.button_draft()

    def test_usage_invoice_refunded_in_part_gives_that_part_back_and_stays_posted(self):
        grant = self.buy(100.0)
        _statement, invoice = self.bill_month(self.subscription, 1, 60)
        refund = invoice._reverse_moves()
        credit_line = refund.invoice_line_ids.filtered(
            lambda line: line.account_id == self.liability
        )
        credit_line.price_unit /= 2
        refund.action_post()
        self.assertEqual(grant.remaining, 70.0)
        self.assertLedgerMatchesLiability()
        with self.assertRaises(UserError):  # would leave the credit note's 30 unmatched
            invoice.button_draft()

    def test_usage_invoice_refunded_without_its_credit_line_keeps_the_credit_used(self):
        grant = self.buy(100.0)
        _statement, invoice = self.bill_month(self.subscription, 1, 60)
        refund = invoice._reverse_moves()
        refund.invoice_line_ids.filtered(lambda line: line.account_id == self.liability).unlink()
        refund.action_post()
        self.assertEqual(grant.remaining, 40.0)
        self.assertLedgerMatchesLiability()

    def test_usage_invoice_refunded_after_the_credit_expired_expires_it_again(self):
        grant = self.buy(100.0, expiry_date=date(2026, 3, 31))
        _statement, invoice = self.bill_month(self.subscription, 1, 60)
        self.expire(grant)  # 40 unused: breakage
        self._reverse_invoice(invoice, post=True)
        expiries = grant.ledger_ids.filtered(lambda line: line.kind == "expire").sorted("id")
        self.assertEqual(expiries.mapped("amount"), [-40.0, -60.0])
        self.assertRecordValues(
            expiries[-1].move_id.line_ids.sorted("balance"),
            [
                {"account_id": self.breakage.id, "debit": 0.0, "credit": 60.0},
                {"account_id": self.liability.id, "debit": 60.0, "credit": 0.0},
            ],
        )
        self.assertExpiredForGood(grant, breakage=100.0)

    def test_usage_invoice_cancelled_after_the_credit_expired_expires_it_again(self):
        grant = self.buy(100.0, expiry_date=date(2026, 3, 31))
        _statement, invoice = self.bill_month(self.subscription, 1, 60)
        self.expire(grant)
        invoice.button_cancel()  # posted: back to draft, then cancelled
        self.assertEqual(invoice.state, "cancel")
        self.assertEqual(
            grant.ledger_ids.sorted("id").mapped("kind"),
            ["purchase", "consume", "expire", "release", "expire"],
        )
        self.assertExpiredForGood(grant, breakage=100.0)
        # The next statement finds nothing to spend.
        statement, _invoice = self.bill_month(self.subscription, 4, 10)
        self.assertEqual(statement.credit_applied, 0.0)

    def test_free_credit_given_back_after_it_expired_expires_again_without_entry(self):
        grant = self.grant(50.0, kind="granted", expiry_date=date(2026, 3, 31))
        grant.action_confirm()
        _statement, invoice = self.bill_month(self.subscription, 1, 30)
        self.expire(grant)
        self._reverse_invoice(invoice, post=True)
        self.assertEqual((grant.state, grant.remaining), ("expired", 0.0))
        expiries = grant.ledger_ids.filtered(lambda line: line.kind == "expire")
        self.assertEqual(expiries.mapped("amount"), [-30.0, -20.0])
        self.assertFalse(expiries.move_id, "free credit never touches the breakage account")

    def test_usage_invoice_cancelled_after_the_credit_was_voided_refunds_it(self):
        grant = self.buy(100.0)
        _statement, invoice = self.bill_month(self.subscription, 1, 60)
        grant.action_void()  # 40 refunded
        invoice.button_cancel()  # the 60 come back: refunded too
        voids = grant.ledger_ids.filtered(lambda line: line.kind == "void")
        self.assertEqual(sorted(voids.mapped("amount")), [-60.0, -40.0])
        self.assertEqual(voids.move_id.mapped("move_type"), ["out_refund", "out_refund"])
        self.assertEqual((grant.state, grant.remaining), ("voided", 0.0))
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertLedgerMatchesLiability()

    # ------------------------------------------------------------ credit sales

    def test_credit_note_of_an_unused_credit_sale_voids_the_credit(self):
        grant = self.buy(100.0)
        refund = self._reverse_invoice(grant.invoice_id, post=True)
        self.assertEqual((grant.state, grant.remaining), ("voided", 0.0))
        void = grant.ledger_ids.filtered(lambda line: line.kind == "void")
        self.assertEqual((void.amount, void.move_id), (-100.0, refund))
        self.assertEqual(self.tenant.credit_balance, 0.0)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 0.0)
        self.assertLedgerMatchesLiability()

    def test_partial_credit_note_of_a_credit_sale_voids_that_part(self):
        grant = self.buy(100.0)
        self.bill_month(self.subscription, 1, 30)
        refund = grant.invoice_id._reverse_moves()
        refund.invoice_line_ids.price_unit = 50.0
        refund.action_post()
        self.assertEqual((grant.state, grant.remaining), ("active", 20.0))
        self.assertEqual(self.tenant.credit_balance, 20.0)
        self.assertEqual(self.balance_on(self.liability, self.partner_a), 20.0)
        self.assertLedgerMatchesLiability()

    def test_credit_note_beyond_what_is_left_is_refused(self):
        grant = self.buy(100.0)
        self.bill_month(self.subscription, 1, 30)
        refund = grant.invoice_id._reverse_moves()
        with self.assertRaises(UserError) as refused:  # rolled back, as the request would be
            refund.action_post()
        self.assertRegex(str(refused.exception), "has only .*70.00 left")
        self.assertEqual(refund.state, "draft")
        self.assertEqual((grant.state, grant.remaining), ("active", 70.0))
        self.assertLedgerMatchesLiability()

    def test_credit_note_of_an_expired_credit_sale_is_refused(self):
        grant = self.buy(100.0, expiry_date=date(2026, 3, 31))
        self.expire(grant)
        with self.assertRaises(UserError):
            self._reverse_invoice(grant.invoice_id, post=True)
        self.assertExpiredForGood(grant, breakage=100.0)

    def test_credit_note_of_an_unpaid_credit_sale_voids_it_and_it_never_becomes_available(self):
        grant = self.buy(100.0, pay=False)
        self.assertEqual(grant.state, "invoiced")
        self._reverse_invoice(grant.invoice_id, post=True)  # reconciled with the invoice
        self.assertEqual((grant.state, grant.remaining), ("voided", 0.0))
        self.assertEqual(grant.invoice_id.payment_state, "reversed")
        self.assertLedgerMatchesLiability()
