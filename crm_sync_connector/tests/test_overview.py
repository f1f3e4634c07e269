from datetime import timedelta

from odoo import fields
from odoo.addons.usage_billing_connector.tests.common import UsageFixtures
from odoo.exceptions import MissingError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestOverviewBackends(UsageFixtures, TransactionCase):
    """The operations overview shows each CRM backend's deliveries, each opening its messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Overview CRM Co"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.product = cls.env["product.product"].create(
            {"name": "Unit", "type": "service", "company_id": cls.company.id}
        )
        partner = cls.env["res.partner"].create({"name": "Acme"})
        cls.tenants = [cls._make_tenant(f"t{index}", partner) for index in range(4)]
        cls.backend, cls.quiet = cls.env["crm.sync.backend"].create(
            [
                {"name": name, "backend_type": "odoo", "company_id": cls.company.id}
                for name in ("Odoo CRM", "Quiet")
            ]
        )

    def message(self, tenant, state, age, sent_age=None, backend=None):
        now = fields.Datetime.now()
        message = self.env["crm.sync.message"].create(
            {
                "backend_id": (backend or self.backend).id,
                "company_id": self.company.id,
                "tenant_id": tenant.id,
                "kind": "update",
                "state": state,
                "sent_date": now - sent_age if sent_age else False,
            }
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_sync_message SET create_date = %s WHERE id = %s", [now - age, message.id]
        )
        message.invalidate_recordset()
        return message

    def test_pending_dead_oldest_pending_and_deliveries_of_the_last_24_hours(self):
        t0, t1, t2, t3 = self.tenants
        oldest = self.message(t0, "pending", timedelta(hours=3, minutes=5))
        newer = self.message(t1, "pending", timedelta(minutes=2))
        dead = self.message(t2, "dead", timedelta(days=2))
        recent = self.message(t3, "done", timedelta(hours=5), sent_age=timedelta(hours=4))
        self.message(t0, "done", timedelta(days=3), sent_age=timedelta(days=2))
        overview = self.env["usage.billing.overview"].browse(self.company.id)
        self.assertEqual(overview.crm_backend_ids, self.backend | self.quiet)
        backend = self.backend
        self.assertEqual(backend.pending_count, 2)
        self.assertEqual(backend.dead_count, 1)
        self.assertEqual(backend.oldest_pending_age, "3 h 05 min")
        self.assertEqual(backend.oldest_pending_at, oldest.create_date)
        self.assertEqual(backend.delivered_24h_count, 1)
        messages = self.env["crm.sync.message"]
        for action, expected in (
            (backend.action_open_pending_messages(), oldest | newer),
            (backend.action_open_dead_messages(), dead),
            (backend.action_open_delivered_messages(), recent),
        ):
            self.assertEqual(messages.search(action["domain"]), expected)
            self.assertEqual(action["display_name"], action["name"], "the list's title")
        quiet = self.quiet
        self.assertEqual(
            (quiet.pending_count, quiet.dead_count, quiet.delivered_24h_count), (0, 0, 0)
        )
        self.assertEqual(quiet.oldest_pending_age, "")

    def test_a_figures_list_url_opens_the_same_messages_under_its_title(self):
        # /odoo/usage-billing-overview/<company>/<backend>/crm-sync-backend-<figure>-messages:
        # a reload or a new tab runs the figure's server action on the backend
        # (active_id), which opens the same list as the button.
        self.message(self.tenants[0], "dead", timedelta(days=1))
        backend = self.backend
        for figure in ("pending", "dead", "delivered"):
            with self.subTest(figure=figure):
                opened = getattr(backend, f"action_open_{figure}_messages")()
                server_action = self.env.ref(f"crm_sync_connector.crm_sync_backend_figure_{figure}")
                self.assertEqual(opened["path"], server_action.path)
                ran = server_action.with_context(active_id=backend.id).run()
                for key in ("display_name", "res_model", "path"):
                    self.assertEqual(ran[key], opened[key])
                self.assertEqual(
                    self.env["crm.sync.message"].search(ran["domain"]),
                    self.env["crm.sync.message"].search(opened["domain"]),
                )
        gone = self.env["crm.sync.backend"].create(
            {"name": "Gone", "backend_type": "odoo", "company_id": self.company.id}
        )
        gone_id = gone.id
        gone.unlink()
        with self.assertRaises(MissingError):
            self.env.ref("crm_sync_connector.crm_sync_backend_figure_dead").with_context(
                active_id=gone_id
            ).run()

    def test_the_overview_form_lists_the_backends(self):
        arch = self.env["usage.billing.overview"].get_views([(False, "form")])["views"]["form"][
            "arch"
        ]
        self.assertIn('name="crm_backend_ids"', arch)
        self.assertIn('name="action_open_dead_messages"', arch)
