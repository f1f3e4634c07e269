from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_billing_late_usage import JanuaryBilledCase


@tagged("post_install", "-at_install")
class TestStatementCorrection(JanuaryBilledCase):
    """Re-rating an invoiced period: a statement of the difference, invoiced or credited."""

    def setUp(self):
        super().setUp()
        self.invoice = self.january.invoice_id
        self.invoice.action_post()
        self.assertEqual(self.invoice.amount_untaxed, 100.0)  # 80 calls + 10 GB × 2

    def correct(self, reason="Disputed", plan=None, release=False, statement=None):
        wizard = (
            self.env["usage.statement.correction.wizard"]
            .with_context(default_statement_id=(statement or self.january).id)
            .create({"reason": reason, "release_held_usage": release})
        )
        if plan:
            wizard.plan_id = plan
        action = wizard.action_correct()
        return self.env["usage.statement"].browse(action["res_id"])

    def reconciliation(self, statement):
        self.env.flush_all()  # the reconciliation is an SQL view
        rows = self.env["usage.reconciliation"].search([("statement_id", "=", statement.id)])
        self.assertTrue(rows)
        for row in rows:
            self.assertEqual(row.quantity_variance, 0.0, row.metric_id.code)
            self.assertEqual(row.amount_variance, 0.0, row.metric_id.code)
        return rows

    def test_disputed_price_becomes_a_credit_note_reversing_the_invoice(self):
        # The customer disputes the calls price: a corrected version halves it.
        self.plan.action_new_version()
        corrected = self.subscription.plan_id
        corrected.charge_ids.filtered(lambda c: c.metric_id == self.calls).tier_ids.write(
            {"unit_price": 0.5}
        )
        correction = self.correct("Calls price agreed at 0.50", plan=corrected)
        self.assertEqual(correction.state, "to_approve")
        self.assertEqual(correction.correction_of_id, self.january)
        self.assertEqual(correction.period_start, self.january.period_start)
        self.assertEqual(correction.amount_untaxed, -40.0)  # 80 × 0.5 owed, 80 billed
        self.assertEqual(self.line(correction, self.calls, kind="late_usage").plan_id, corrected)
        self.assertFalse(correction.line_ids.filtered(lambda line: line.metric_id == self.storage))

        correction.action_approve()
        credit_note = correction.invoice_id
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, self.invoice)
        self.assertEqual(credit_note.amount_untaxed, 40.0)
        self.assertIn(self.invoice.name, credit_note.ref)
        self.assertIn("Calls price agreed at 0.50", credit_note.ref)
        credit_note.action_post()
        self.assertEqual(self.invoice.amount_untaxed, 100.0, "the original invoice is untouched")

        self.reconciliation(self.january)
        row = self.reconciliation(correction)
        self.assertEqual(row.invoice_id, credit_note)
        self.assertEqual(row.corrected_invoice_id, self.invoice)
        self.assertEqual(row.statement_amount, -40.0)
        self.assertEqual(row.invoiced_amount, -40.0)
        # The period's events are billed once: by the original statement.
        self.assertEqual(self.january.event_count, 2)
        self.assertEqual(correction.event_count, 0)

    def test_held_late_usage_is_released_into_a_supplementary_invoice(self):
        self.hold_late_calls("held-1")
        wizard = (
            self.env["usage.statement.correction.wizard"]
            .with_context(default_statement_id=self.january.id)
            .create({"reason": "Usage held after invoicing"})
        )
        self.assertEqual(wizard.held_count, 1)
        self.assertTrue(wizard.release_held_usage, "held usage is offered by default")
        correction = self.env["usage.statement"].browse(wizard.action_correct()["res_id"])

        held = self.env["usage.event"].search([("event_id", "=", "held-1")])
        self.assertEqual(held.state, "accepted")
        late = self.line(correction, self.calls, kind="late_usage")
        # 80 + 40 = 120 calls: 100 × 1.0 + 20 × 0.5 = 110 owed, 80 billed.
        self.assertEqual(late.amount, 30.0)
        self.assertEqual(correction.amount_untaxed, 30.0)
        self.assertEqual(held.statement_id, correction)
        self.assertEqual(correction.event_count, 1)

        correction.action_approve()
        supplementary = correction.invoice_id
        self.assertEqual(supplementary.move_type, "out_invoice")
        self.assertFalse(supplementary.reversed_entry_id)
        self.assertEqual(supplementary.amount_untaxed, 30.0)
        self.reconciliation(correction)

        # The next closing finds nothing late for January: the correction billed it.
        (february,) = self.close(self.subscription, "2026-03-01 00:00:01")
        self.assertFalse(february.line_ids.filtered(lambda line: line.kind == "late_usage"))

    def test_correcting_again_corrects_what_the_corrections_already_charged(self):
        self.plan.action_new_version()
        corrected = self.subscription.plan_id
        corrected.charge_ids.filtered(lambda c: c.metric_id == self.storage).unit_price = 1.0
        first = self.correct("Storage at 1.00", plan=corrected)
        first.action_approve()
        first.invoice_id.action_post()
        self.assertEqual(first.amount_untaxed, -10.0)
        with self.assertRaisesRegex(UserError, "nothing to correct"):
            self.correct("Again", plan=corrected, statement=first)
        # Back to the original prices: the credit is undone by a supplementary invoice.
        second = self.correct("Storage credit withdrawn", plan=self.plan, statement=first)
        self.assertEqual(second.correction_of_id, self.january)
        self.assertEqual(second.amount_untaxed, 10.0)

    def test_only_posted_invoices_are_corrected_and_one_correction_waits_at_a_time(self):
        self.plan.action_new_version()
        corrected = self.subscription.plan_id
        corrected.charge_ids.filtered(lambda c: c.metric_id == self.storage).unit_price = 3.0
        self.correct("Storage at 3.00", plan=corrected)
        with self.assertRaisesRegex(UserError, "already has a correction to approve"):
            self.correct("Twice", plan=corrected)
        # The database holds the rule even past the check.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["usage.statement"].create(
                {
                    "subscription_id": self.subscription.id,
                    "tenant_id": self.tenant.id,
                    "partner_id": self.partner_a.id,
                    "company_id": self.company.id,
                    "currency_id": self.january.currency_id.id,
                    "plan_id": corrected.id,
                    "period_start": self.january.period_start,
                    "period_end": self.january.period_end,
                    "correction_of_id": self.january.id,
                    "line_ids": [],
                }
            )
        # A second ordinary statement of the period is refused as before.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.january.copy({"name": "dup", "line_ids": [Command.clear()]})
            self.env.flush_all()

        (february,) = self.close(self.subscription, "2026-03-01 00:00:01")
        with self.assertRaisesRegex(UserError, "posted invoice"):
            self.correct("Not invoiced yet", statement=february)
