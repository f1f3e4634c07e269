from odoo.tests import tagged

from .collection_common import CollectionCase


@tagged("post_install", "-at_install")
class TestCollection(CollectionCase):
    def test_approve_posts_sends_charges_and_tells_the_platform(self):
        self.company.usage_post_and_send = True
        # The account tests' customers are sent invoices manually; this one by email.
        self.partner_a.with_company(self.company).invoice_sending_method = "email"
        self.token("done")
        with self.trap_jobs() as trap:
            statement = self.approved_statement(calls=10)
            invoice = statement.invoice_id
            self.assertEqual(invoice.state, "posted")
            self.assertTrue(invoice.sending_data, "queued for Odoo's invoice sending")
            self.run_until_settled(trap)
        self.assertEqual(invoice.amount_untaxed, 105.0)
        tx = invoice.transaction_ids
        self.assertRecordValues(
            tx,
            [
                {
                    "state": "done",
                    "operation": "offline",
                    "usage_collection": True,
                    "amount": invoice.amount_total,
                    "currency_id": invoice.currency_id.id,
                }
            ],
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(tx.payment_id, "paid and reconciled by Odoo's post-processing")
        self.assertEqual(self.receiver.types(), ["invoice.posted", "invoice.paid"])
        self.assertFalse(self.receiver.duplicates)
        paid = self.receiver.of_type("invoice.paid")[0]
        self.assertEqual(paid["tenant"], "t1")
        self.assertRegex(paid["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        data = paid["data"]["invoice"]
        self.assertEqual(data["number"], invoice.name)
        self.assertEqual(data["amount_residual"], "0.00")
        self.assertEqual(data["currency"], invoice.currency_id.name)
        self.assertIn(data["payment_state"], ("paid", "in_payment"))
        self.assertIn("/my/invoices/", data["portal_url"])
        self.assertEqual(data["due_date"], invoice.invoice_date_due.isoformat())
        self.assertEqual(set(self.deliveries().mapped("state")), {"done"})

        # Odoo's sending cron then emails the invoice with its portal link.
        self.env["account.move.send"]._generate_and_send_invoices(invoice, from_cron=True)
        self.assertFalse(invoice.sending_data)
        mail = (
            self.env["mail.message"]
            .search([("model", "=", "account.move"), ("res_id", "=", invoice.id)])
            .filtered(lambda m: self.partner_a in m.partner_ids)
        )
        # Emailed (a comment to the customer); Odoo's mail layout adds the portal button.
        self.assertEqual(mail.mapped("message_type"), ["comment"])
        self.assertTrue(invoice.is_move_sent)

    def test_without_the_setting_approval_drafts_and_no_token_no_charge(self):
        with self.trap_jobs() as trap:
            statement = self.approved_statement()
            self.assertEqual(statement.invoice_id.state, "draft")
            self.assertFalse(trap.enqueued_jobs)
            statement.invoice_id.action_post()  # no saved card: nothing charged
            self.run_until_settled(trap)
        self.assertFalse(statement.invoice_id.transaction_ids)
        self.assertEqual(self.receiver.types(), ["invoice.posted"])

    def test_automatic_collection_can_be_turned_off(self):
        self.company.usage_auto_collect = False
        self.token("done")
        with self.trap_jobs() as trap:
            invoice = self.approved_statement().invoice_id
            invoice.action_post()
            self.run_until_settled(trap)
        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_failed_charge_dunning_suspension_payment_reactivation(self):
        token = self.token("error")
        with self.trap_jobs() as trap:
            invoice = self.approved_statement().invoice_id
            invoice.action_post()
            self.run_until_settled(trap)
            self.assertEqual(invoice.transaction_ids.state, "error")
            self.assertEqual(invoice.usage_charge_failed_on, invoice.invoice_date_due)
            subscription = invoice.usage_statement_ids.subscription_id
            dunning = self.env["usage.dunning"]

            dunning._run(self.day(invoice, 1))
            dunning._run(self.day(invoice, 1))  # a second run the same day does nothing more
            self.assertEqual(
                sorted(invoice.usage_dunning_log_ids.mapped("action")),
                ["overdue", "reminder", "retry"],
            )
            self.assertEqual(len(invoice.transaction_ids), 2, "retried once")
            for days in (3, 7):
                dunning._run(self.day(invoice, days))
            self.assertEqual(len(invoice.transaction_ids), 4)
            self.assertEqual(subscription.state, "active")
            dunning._run(self.day(invoice, 14))
            self.assertEqual(subscription.state, "suspended")
            suspension = subscription.change_ids.filtered(lambda c: c.change_type == "suspended")
            self.assertEqual(suspension.event_id, f"usage-dunning-suspend-{invoice.id}")
            logs = invoice.usage_dunning_log_ids
            self.assertEqual(len(logs), 8, "overdue, 3 retries, 3 reminders, suspension")
            self.assertEqual(set(logs.mapped("result")) - {"done", "failed"}, set())
            chatter = invoice.message_ids.mapped("body")
            self.assertEqual(sum("Dunning" in str(body) for body in chatter), 8)
            reminders = invoice.message_ids.filtered(
                lambda m: m.message_type == "comment" and self.partner_a in m.partner_ids
            )
            self.assertEqual(len(reminders), 3)
            self.assertIn("/my/invoices/", str(reminders[0].body), "the portal link")

            self.set_simulated_state(token, "done")
            self.pay(invoice)
            self.assertEqual(subscription.state, "active")
            self.assertTrue(logs.filtered(lambda log: log.action == "suspend").reactivated)
            dunning._run(self.day(invoice, 30))
            self.assertEqual(len(invoice.usage_dunning_log_ids), 8, "a payment stops dunning")
            self.run_until_settled(trap)

        self.assertEqual(
            self.receiver.types(),
            [
                "invoice.posted",
                "invoice.payment_failed",
                "invoice.overdue",
                "invoice.payment_failed",
                "invoice.payment_failed",
                "invoice.payment_failed",
                "subscription.suspended",
                "invoice.paid",
                "subscription.reactivated",
            ],
        )
        suspended = self.receiver.of_type("subscription.suspended")[0]["data"]
        self.assertEqual(suspended["reason"], "dunning")
        self.assertEqual(suspended["subscription"]["state"], "suspended")
        self.assertEqual(suspended["invoice"]["number"], invoice.name)
        reactivated = self.receiver.of_type("subscription.reactivated")[0]["data"]
        self.assertEqual(
            (reactivated["reason"], reactivated["subscription"]["state"]), ("payment", "active")
        )
        failed = self.receiver.of_type("invoice.payment_failed")[0]["data"]
        self.assertEqual(failed["payment"]["state"], "error")
        overdue = self.receiver.of_type("invoice.overdue")[0]["data"]
        self.assertEqual(overdue["days_overdue"], 1)

    def test_a_late_cron_skips_overtaken_steps_and_a_manual_suspension_is_kept(self):
        with self.trap_jobs() as trap:
            invoice = self.approved_statement().invoice_id
            invoice.action_post()
            self.run_until_settled(trap)
            subscription = invoice.usage_statement_ids.subscription_id
            subscription.action_suspend()
            self.env["usage.dunning"]._run(self.day(invoice, 20))
            logs = invoice.usage_dunning_log_ids
            self.assertEqual(
                sorted((log.action, log.result) for log in logs),
                [
                    ("overdue", "done"),
                    ("reminder", "done"),
                    ("reminder", "skipped"),
                    ("reminder", "skipped"),
                    ("suspend", "skipped"),
                ],
            )
            self.pay(invoice)
            self.assertEqual(subscription.state, "suspended", "not dunning's to reverse")
            self.run_until_settled(trap)
        suspended = self.receiver.of_type("subscription.suspended")[0]["data"]
        self.assertEqual(suspended["reason"], "manual")
        self.assertFalse(self.receiver.of_type("subscription.reactivated"))
