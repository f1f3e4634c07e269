"""The dunning run: which unpaid usage invoices get which step today (``core.dunning``).

Selection is one SQL statement over the unpaid usage invoices that are overdue
or had a failed charge; the policy of each company and the steps already
logged are read once per batch.  Each step is claimed in ``usage.dunning.log``
(unique per invoice and step) before it runs, so a step runs once per invoice
even when two runs overlap.  A payment stops the sequence: paid invoices are
no longer selected, and a run stops an invoice's steps as soon as it is paid.
"""

import logging

from odoo import api, fields, models

from ..core import dunning

_logger = logging.getLogger(__name__)

DUE_INVOICES_SQL = """
SELECT m.id
  FROM account_move m
 WHERE m.move_type = 'out_invoice'
   AND m.state = 'posted'
   AND m.payment_state IN ('not_paid', 'partial')
   AND (m.invoice_date_due < %(today)s OR m.usage_charge_failed_on < %(today)s)
   AND EXISTS (SELECT 1 FROM usage_statement s WHERE s.invoice_id = m.id)
 ORDER BY m.id
"""
BATCH = 100


class UsageDunning(models.AbstractModel):
    _name = "usage.dunning"
    _description = "Usage Dunning Run"

    @api.model
    def _cron_run(self):
        self._run(fields.Date.context_today(self), commit=True)

    @api.model
    def _run(self, today, commit=False):
        """Run the due steps of every company's unpaid usage invoices as of ``today``."""
        # sudo: the cron runs every company's dunning (charges, mails, suspensions).
        runner = self.sudo()
        runner.env.flush_all()
        runner.env.cr.execute(DUE_INVOICES_SQL, {"today": today})
        ids = [row[0] for row in runner.env.cr.fetchall()]
        for start in range(0, len(ids), BATCH):
            invoices = runner.env["account.move"].browse(ids[start : start + BATCH])
            runner._run_batch(invoices, today)
            if commit:
                done = start + len(invoices)
                runner.env["ir.cron"]._commit_progress(len(invoices), remaining=len(ids) - done)
        return len(ids)

    def _run_batch(self, invoices, today):
        steps = self.env["usage.dunning.step"].search(
            [("company_id", "in", invoices.company_id.ids)]
        )
        policies = {
            c: steps.filtered(lambda s, c=c: s.company_id == c) for c in invoices.company_id
        }
        logs = self.env["usage.dunning.log"]._read_group(
            [("invoice_id", "in", invoices.ids)], ["invoice_id"], ["key:array_agg"]
        )
        done = {invoice.id: set(keys) for invoice, keys in logs}
        for invoice in invoices:
            keys = done.get(invoice.id, set())
            try:
                with self.env.cr.savepoint():
                    self._run_invoice(invoice, policies[invoice.company_id], keys, today)
            except Exception:
                # Left for the next run (its claims were rolled back with it).
                _logger.exception("Dunning of invoice %s failed", invoice.id)

    def _run_invoice(self, invoice, policy, keys, today):
        if invoice.invoice_date_due and invoice.invoice_date_due < today and "overdue" not in keys:
            if self.env["usage.dunning.log"]._claim(invoice, "overdue", "overdue"):
                overdue = dunning.days_overdue(invoice.invoice_date_due, today)
                invoice.message_post(body=self.env._("Dunning: overdue by %s day(s).", overdue))
                invoice._usage_emit("invoice.overdue", {"days_overdue": overdue})
        done_steps = {int(key[5:]) for key in keys if key.startswith("step-")}
        decision = dunning.due_steps(
            policy._as_core(),
            today=today,
            due_date=invoice.invoice_date_due,
            failed_on=invoice.usage_charge_failed_on or None,
            done=done_steps,
        )
        step_model = self.env["usage.dunning.step"]
        for core_step in decision.skip:
            step = step_model.browse(core_step.key)
            if self.env["usage.dunning.log"]._claim(
                invoice, f"step-{step.id}", step.action, step, result="skipped"
            ):
                invoice.message_post(
                    body=self.env._("Dunning: %s skipped (a later step is due).", step.display_name)
                )
        for core_step in decision.run:
            if invoice.payment_state not in ("not_paid", "partial"):
                break  # paid by this run's retry: the sequence stops
            step = step_model.browse(core_step.key)
            log = self.env["usage.dunning.log"]._claim(
                invoice, f"step-{step.id}", step.action, step
            )
            if log:
                self._execute(invoice, step, log)

    def _execute(self, invoice, step, log):
        result, note = getattr(self, f"_step_{step.action}")(invoice, step, log)
        log.write({"result": result, "note": note})
        invoice.message_post(
            body=self.env._("Dunning: %(step)s: %(note)s", step=step.display_name, note=note)
        )

    def _step_retry(self, invoice, step, log):
        if not invoice._usage_collectable():
            return "skipped", self.env._("a charge is already in progress")
        transaction = invoice._usage_collect()
        if not transaction:
            return "skipped", self.env._("no saved payment method")
        log.transaction_id = transaction
        if transaction.state == "done":
            return "done", self.env._("charge %(ref)s succeeded", ref=transaction.reference)
        if transaction.state in ("error", "cancel"):
            return "failed", self.env._("charge %(ref)s failed", ref=transaction.reference)
        return "done", self.env._(
            "charge %(ref)s is %(state)s", ref=transaction.reference, state=transaction.state
        )

    def _step_reminder(self, invoice, step, log):
        template = step._reminder_template()
        invoice.message_post_with_source(
            template, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        return "done", self.env._("reminder sent to %s", invoice.partner_id.display_name)

    def _step_suspend(self, invoice, step, log):
        subscription = invoice.usage_statement_ids[:1].subscription_id
        if subscription.state not in ("trial", "active"):
            return "skipped", self.env._("subscription is %s", subscription.state)
        subscription._apply_change(
            "suspended",
            fields.Datetime.now(),
            event_id=f"usage-dunning-suspend-{invoice.id}",
            reason="dunning",
            invoice=invoice,
        )
        log.subscription_id = subscription
        return "done", self.env._("subscription %s suspended", subscription.display_name)
