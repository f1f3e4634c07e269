import psycopg2
from lxml import etree

from odoo.tests import tagged
from odoo.tools import mute_logger

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestDisplay(BillingCase):
    """Quantities with their metric's decimal places, periods as an accountant says them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calls.decimal_places = 0
        cls.storage.decimal_places = 3
        cls.plan = cls._plan(
            "display",
            [
                {"metric_id": cls.calls.id, "unit_price": 0.001},
                {"metric_id": cls.storage.id, "unit_price": 2.0},
            ],
            fee=10.0,
        )

    def arch(self, model, view_type, xmlid=None):
        view_id = self.env.ref(xmlid).id if xmlid else None
        views = self.env[model].get_views([(view_id, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_a_quantity_carries_its_metrics_decimal_places(self):
        calls = self.usage(self.calls, 250000)
        storage = self.usage(self.storage, 12.5)
        (statement,) = self.close(self.subscribe(self.plan))
        self.assertEqual((calls | storage).mapped("quantity_digits"), [0, 3])
        self.assertEqual(self.line(statement, self.calls).quantity_digits, 0)
        self.assertEqual(self.line(statement, self.storage).quantity_digits, 3)
        # Seats of the fee line have no metric: shown exact, without trailing zeros.
        self.assertEqual(self.line(statement, kind="fee").quantity_digits, -1)
        rows = self.env["usage.reconciliation"].search([("statement_id", "=", statement.id)])
        self.assertEqual(sorted(rows.mapped("quantity_digits")), [0, 3])
        unknown = self.usage(self.calls, 1.25)
        unknown.write({"state": "quarantined", "metric_id": False})
        self.assertEqual(unknown.quantity_digits, -1)

    def test_decimal_places_stay_between_0_and_9(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation):
            self.calls.decimal_places = 10
            self.env.flush_all()

    def test_periods_read_as_an_accountant_says_them(self):
        self.usage(self.calls, 10)
        sub = self.subscribe(self.plan)
        (statement,) = self.close(sub)
        self.assertEqual(statement.period_label, "Jan 1 – Jan 31, 2026")
        self.assertEqual(self.line(statement, self.calls).period_label, "Jan 1 – Jan 31, 2026")
        row = self.env["usage.reconciliation"].search(
            [("statement_id", "=", statement.id), ("metric_id", "=", self.calls.id)]
        )
        self.assertEqual(row.period_label, "Jan 1 – Jan 31, 2026")
        self.assertTrue(sub.current_period_label.endswith(str(sub.current_period_start.year)))
        # In the user's language.
        self.env["res.lang"]._activate_lang("fr_FR")
        french = statement.with_context(lang="fr_FR")
        french.invalidate_recordset(["period_label"])
        self.assertEqual(french.period_label, "1 janv. – 31 janv., 2026")

    def test_lists_show_quantities_with_the_metric_widget_and_the_period_label(self):
        for model, view_type, xmlid, names in (
            ("usage.event", "list", None, ["quantity"]),
            ("usage.event", "form", None, ["quantity"]),
            (
                "usage.reconciliation",
                "list",
                None,
                ["billed_quantity", "event_quantity", "quantity_variance"],
            ),
            (
                "usage.statement",
                "form",
                "usage_billing_connector.usage_statement_view_form",
                ["quantity", "included", "billable"],
            ),
        ):
            arch = self.arch(model, view_type, xmlid)
            for name in names:
                nodes = arch.xpath(f"//field[@name='{name}']")
                self.assertTrue(nodes, f"{model} {view_type}: {name}")
                self.assertEqual(
                    {node.get("widget") for node in nodes}, {"metric_quantity"}, f"{model}.{name}"
                )
        for model in ("usage.statement", "usage.reconciliation"):
            self.assertTrue(self.arch(model, "list").xpath("//field[@name='period_label']"))
        # The widget is in the backend bundle and reads the field every such model has.
        paths = [
            path for path, *_rest in self.env["ir.asset"]._get_asset_paths("web.assets_backend", {})
        ]
        self.assertTrue(
            any(
                path.endswith("usage_billing_connector/static/src/fields/metric_quantity_field.js")
                for path in paths
            )
        )
        for model in ("usage.event", "usage.statement.line", "usage.reconciliation"):
            self.assertEqual(self.env[model]._fields["quantity_digits"].type, "integer")
