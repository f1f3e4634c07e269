"""Usage invoices after approval: posted events, automatic collection, paid events.

A usage invoice is a customer invoice made by a ``usage.statement``.  Posting
it tells the product platform (``invoice.posted``) and, when the company
collects automatically, charges the customer's saved payment method in a job
after the posting committed; being paid tells the platform (``invoice.paid``)
and reverses the suspension dunning made for it.
"""

from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    usage_statement_ids = fields.One2many("usage.statement", "invoice_id", readonly=True)
    usage_charge_failed_on = fields.Date(
        string="Charge failed on",
        readonly=True,
        copy=False,
        help="Day the first automatic charge of this invoice failed (dunning counts from it).",
    )
    usage_dunning_log_ids = fields.One2many("usage.dunning.log", "invoice_id", readonly=True)
    usage_paid_notified = fields.Boolean(readonly=True, copy=False)

    def _usage_invoices(self):
        """The usage invoices of ``self``, as superuser (see the comment)."""
        # sudo: accountants post and pay invoices without usage rights; what
        # follows (events, charges, reactivation) is system plumbing.
        return self.sudo().filtered(
            lambda m: m.move_type == "out_invoice" and m.usage_statement_ids
        )

    # ------------------------------------------------------------------ hooks

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        usage = posted._usage_invoices()
        if usage:
            usage._usage_emit("invoice.posted")
            usage.filtered(lambda m: m.company_id.usage_auto_collect)._usage_schedule_collection()
        return posted

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        paid = self._usage_invoices().filtered(
            lambda m: m.payment_state in ("paid", "in_payment") and not m.usage_paid_notified
        )
        if paid:
            paid.write({"usage_paid_notified": True})
            paid._usage_emit("invoice.paid")
            paid._usage_reverse_suspensions()
        return result

    # ------------------------------------------------------------------ posting

    def _usage_post_and_send(self):
        """On approval, when the company asks for it: post, then send by Odoo's batch sending.

        The sending (PDF and email with the portal link) is Odoo's own
        ``account.move.send`` run by its cron after this transaction commits, so
        an approval never waits for a PDF, and a mail server down does not undo it.
        """
        moves = self.filtered(lambda m: m.state == "draft" and m.company_id.usage_post_and_send)
        if not moves:
            return moves
        moves.action_post()
        moves.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
        }
        # sudo: triggering a cron needs no more than reading it; approvers are not admins.
        self.env.ref("account.ir_cron_account_move_send").sudo()._trigger()
        return moves

    # ------------------------------------------------------------------ events

    def _usage_emit(self, event_type, extra=None):
        """One product event per usage invoice, with what a receiver needs to act."""
        for move in self:
            statement = move.usage_statement_ids[:1]
            tenant = statement.tenant_id
            data = {"invoice": tenant._api_invoice(move, statement, move.get_base_url())}
            data.update(extra or {})
            tenant._usage_notify(event_type, data)

    # ------------------------------------------------------------------ collection

    def _usage_schedule_collection(self):
        for move in self:
            move.with_delay(
                identity_key=f"usage-collect-{move.id}",
                description=f"Charge the saved payment method for {move.name}",
            )._usage_collect()

    def _usage_payment_token(self):
        """The customer's newest saved payment method usable for an offline charge."""
        self.ensure_one()
        partners = self.partner_id | self.commercial_partner_id
        return (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("provider_id.allow_tokenization", "=", True),
                    ("provider_id.state", "in", ("enabled", "test")),
                    ("provider_id.company_id", "=", self.company_id.id),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _usage_collectable(self):
        self.ensure_one()
        return (
            self.state == "posted"
            and self.payment_state in ("not_paid", "partial")
            and not self.currency_id.is_zero(self.amount_residual)
            and not self.transaction_ids.filtered(
                lambda t: t.state in ("draft", "pending", "authorized")
            )
        )

    def _usage_collect(self):
        """Charge each invoice's residual on the saved payment method (Odoo's token flow).

        Returns the transactions.  Confirmed or failed charges are post-processed
        at once (``account_payment`` pays and reconciles the invoice); pending ones
        by the payment cron.  An invoice with a charge in progress is left alone.
        """
        transactions = self.env["payment.transaction"].sudo()
        for move in self._usage_invoices():
            token = move._usage_payment_token() if move._usage_collectable() else None
            if not token:
                continue
            tx = transactions.create(
                {
                    "provider_id": token.provider_id.id,
                    "payment_method_id": token.payment_method_id.id,
                    "token_id": token.id,
                    "amount": move.amount_residual,
                    "currency_id": move.currency_id.id,
                    "partner_id": token.partner_id.id,
                    "operation": "offline",
                    "invoice_ids": [fields.Command.set(move.ids)],
                    "usage_collection": True,
                }
            )
            tx._charge_with_token()
            if tx.state in ("done", "error", "cancel"):
                tx._post_process()
            transactions |= tx
        return transactions

    def _usage_charge_failed(self, transaction):
        """A charge failed: remember the day, tell the chatter, the platform and the CRM."""
        for move in self._usage_invoices():
            if not move.usage_charge_failed_on:
                move.usage_charge_failed_on = fields.Date.context_today(move)
            move.message_post(
                body=self.env._(
                    "Automatic charge %(reference)s failed: %(error)s",
                    reference=transaction.reference,
                    error=transaction.state_message or transaction.state,
                )
            )
            move._usage_emit(
                "invoice.payment_failed",
                {
                    "payment": {
                        "reference": transaction.reference,
                        "state": transaction.state,
                        "error": transaction.state_message or None,
                        "provider": transaction.provider_code,
                        "failed_on": move.usage_charge_failed_on.isoformat(),
                    }
                },
            )

    # ------------------------------------------------------------------ dunning

    def _usage_reverse_suspensions(self):
        """Reactivate the subscriptions dunning suspended for these (now paid) invoices.

        A subscription suspended for several unpaid invoices is reactivated when
        the last of them is paid; one suspended by someone else stays suspended.
        """
        logs = self.usage_dunning_log_ids.filtered(
            lambda log: log.action == "suspend" and log.result == "done" and not log.reactivated
        )
        logs.write({"reactivated": True})
        open_logs = self.env["usage.dunning.log"]
        for log in logs.filtered("subscription_id"):
            subscription = log.subscription_id
            still_suspended_for = open_logs.search_count(
                [
                    ("subscription_id", "=", subscription.id),
                    ("action", "=", "suspend"),
                    ("result", "=", "done"),
                    ("reactivated", "=", False),
                ]
            )
            if subscription.state != "suspended" or still_suspended_for:
                continue
            subscription._apply_change(
                "reactivated",
                fields.Datetime.now(),
                event_id=f"usage-dunning-reactivate-{log.invoice_id.id}",
                reason="payment",
                invoice=log.invoice_id,
            )
            log.invoice_id.message_post(
                body=self.env._("Paid: subscription %s reactivated.", subscription.display_name)
            )
