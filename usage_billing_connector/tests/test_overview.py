import json
from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged

from ..core.quarantine import REASONS
from .billing_common import BillingCase

NOW = datetime(2026, 2, 10, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestOverview(BillingCase):
    """Usage Billing → Overview: each figure is right, and opens exactly its records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.setup_other_company()["company"]
        cls.plan = cls._plan("ov", [{"metric_id": cls.calls.id, "unit_price": 1.0}])
        cls.tenant_two = cls._make_tenant("t2", cls.partner_b)

    def overview(self):
        overview = self.env["usage.billing.overview"].browse(self.company.id)
        overview.invalidate_recordset()
        return overview

    def opened(self, action):
        """The records the list action shows (titled as named: the web client reads
        ``display_name`` first)."""
        self.assertEqual(action["display_name"], action["name"])
        return self.env[action["res_model"]].search(action["domain"])

    def log(self, endpoint="events", company=None, when=None, **values):
        log = self.env["usage.ingest.log"]._record(
            {
                "request_id": f"req-{len(self.env['usage.ingest.log'].search([]))}",
                "endpoint": endpoint,
                "company_id": (company or self.company).id,
                "http_status": 200,
                **values,
            }
        )
        if when:
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE usage_ingest_log SET create_date = %s WHERE id = %s", [when, log.id]
            )
            log.invalidate_recordset()
        return log

    def quarantined(self, reason, received_at, tenant_ref="ghost"):
        event = self.usage(self.calls, 1, when="2026-02-05 00:00:00")
        event.write({"state": "quarantined", "quarantine_reason": reason})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE usage_event_data SET received_at = %s, tenant_ref = %s WHERE id = %s",
            [received_at, tenant_ref, event.id],
        )
        event.invalidate_recordset()
        return event

    def test_ingestion_today_by_status_and_last_event_received(self):
        now = fields.Datetime.now()
        ok = self.log(accepted=5, duplicates=1)
        mixed = self.log(quarantined=2, rejected=1)
        failed = self.log(http_status=401, error_code="bad_signature")
        self.log(endpoint="subscription_events", accepted=7)
        self.log(company=self.other, accepted=11)
        yesterday = self.log(accepted=13, when=now - timedelta(days=1, hours=1))
        overview = self.overview()
        self.assertEqual(overview.ingest_request_count, 3)
        self.assertEqual(overview.ingest_accepted_count, 5)
        self.assertEqual(overview.ingest_duplicate_count, 1)
        self.assertEqual(overview.ingest_quarantined_count, 2)
        self.assertEqual(overview.ingest_rejected_count, 1)
        self.assertEqual(overview.ingest_failed_count, 1)
        self.assertEqual(overview.last_received_at, mixed.create_date)
        self.assertIn("ago", overview.last_received_age)
        self.assertEqual(self.opened(overview.action_open_ingestion()), ok | mixed | failed)
        self.assertEqual(self.opened(overview.action_open_ingestion_accepted()), ok)
        self.assertEqual(self.opened(overview.action_open_ingestion_duplicates()), ok)
        self.assertEqual(self.opened(overview.action_open_ingestion_quarantined()), mixed)
        self.assertEqual(self.opened(overview.action_open_ingestion_rejected()), mixed)
        self.assertEqual(self.opened(overview.action_open_ingestion_failed()), failed)
        self.assertEqual(self.opened(overview.action_open_last_received()), ok | mixed | yesterday)

    def test_nothing_received_yet(self):
        overview = self.overview()
        self.assertEqual(overview.ingest_request_count, 0)
        self.assertFalse(overview.last_received_at)
        self.assertEqual(overview.last_received_age, "None yet")
        self.assertEqual(overview.quarantine_count, 0)
        self.assertFalse(overview.quarantine_reason_ids)
        self.assertEqual(overview.to_approve_count, 0)
        self.assertEqual(overview.to_approve_amounts, "")

    def test_quarantine_backlog_by_reason_and_its_oldest(self):
        now = fields.Datetime.now()
        oldest = self.quarantined("unknown_tenant", now - timedelta(days=3, hours=2))
        newer = self.quarantined("unknown_tenant", now - timedelta(hours=1))
        metric = self.quarantined("unknown_metric", now - timedelta(hours=5))
        self.usage(self.calls, 1)  # accepted: not in the backlog
        overview = self.overview()
        self.assertEqual(overview.quarantine_count, 3)
        self.assertEqual(overview.quarantine_oldest_id, oldest)
        self.assertEqual(overview.quarantine_oldest_age, "3 d 2 h")
        self.assertEqual(self.opened(overview.action_open_quarantine()), oldest | newer | metric)
        self.assertEqual(overview.action_open_quarantine_oldest()["res_id"], oldest.id)
        rows = {row.reason: row for row in overview.quarantine_reason_ids}
        self.assertEqual(set(rows), {"unknown_tenant", "unknown_metric"})
        self.assertEqual(rows["unknown_tenant"].event_count, 2)
        self.assertEqual(rows["unknown_tenant"].oldest_received_at, oldest.received_at)
        self.assertEqual(rows["unknown_metric"].oldest_age, "5 h 00 min")
        self.assertEqual(self.opened(rows["unknown_tenant"].action_open_events()), oldest | newer)
        self.assertEqual(self.opened(rows["unknown_metric"].action_open_events()), metric)
        self.assertEqual(rows["unknown_tenant"].action_open_oldest()["res_id"], oldest.id)

    def test_statements_to_approve_and_their_amount(self):
        eur = self.setup_other_currency("EUR")
        euro_plan = self._plan(
            "eu", [{"metric_id": self.calls.id, "unit_price": 2.0}], currency=eur
        )
        euro_tenant = self._make_tenant("t-eu", self.partner_b, currency=eur)
        self.usage(self.calls, 30)
        self.usage(self.calls, 4, tenant=euro_tenant)
        (usd,) = self.close(self.subscribe(self.plan))
        (euro,) = self.close(self.subscribe(euro_plan, tenant=euro_tenant))
        (approved,) = self.close(self.subscribe(self.plan, tenant=self.tenant_two))
        approved.action_approve()
        overview = self.overview()
        self.assertEqual(overview.to_approve_count, 2)
        # One amount per currency, never added across currencies.
        self.assertIn("30.00", overview.to_approve_amounts)
        self.assertIn("8.00", overview.to_approve_amounts)
        self.assertIn(" + ", overview.to_approve_amounts)
        self.assertEqual(self.opened(overview.action_open_to_approve()), usd | euro)
        self.assertEqual(overview.action_open_to_approve()["name"], "Statements to approve")

    def test_unbilled_usage_of_closed_periods(self):
        sub = self.subscribe(self.plan)
        billed = self.usage(self.calls, 80, when="2026-01-15 00:00:00")
        self.close(sub)
        late = self.usage(self.calls, 5, when="2026-01-20 00:00:00")
        current = self.usage(self.calls, 7, when="2026-02-05 00:00:00")
        self.subscribe(self.plan, tenant=self.tenant_two)
        not_closed = self.usage(self.calls, 3, when="2026-01-10 00:00:00", tenant=self.tenant_two)
        with freeze_time(NOW):
            overview = self.overview()
            self.assertEqual(overview.unbilled_event_count, 2)
            unbilled = self.opened(overview.action_open_unbilled())
            self.assertEqual(unbilled, late | not_closed)
            self.assertFalse(unbilled & (billed | current))
            self.assertEqual((late | billed).mapped("closed_unbilled"), [True, False])
        # February's run bills the late usage as a true-up and closes tenant two's January.
        self.close(sub, "2026-03-01 00:00:01")
        self.close(self.env["usage.subscription"].search([("tenant_id", "=", self.tenant_two.id)]))
        with freeze_time(datetime(2026, 3, 5)):
            self.assertEqual(self.overview().unbilled_event_count, 0)

    def test_unbilled_usage_is_what_each_billing_snapshot_did_not_see(self):
        # The figure reads only the events a snapshot may have missed (accepted
        # since, or in flight then); each case below is one way of being missed or
        # not, checked against core.snapshots.seen, on two billings whose snapshots
        # are far apart (an old one must not hide the events the new one missed).
        from ..core import snapshots  # noqa: PLC0415

        sub, sub_two = self.subscribe(self.plan), self.subscribe(self.plan, tenant=self.tenant_two)
        xids = {  # accepted_xid of each event: the snapshot is 1000:1010:1003 (1003 in flight)
            "billed": 999,
            "in_flight": 1003,
            "completed_between": 1005,
            "accepted_after": 1010,
            "never_made_billable_by_one": None,
        }
        events = {name: self.usage(self.calls, 1) for name in xids}
        old = self.usage(self.calls, 1, tenant=self.tenant_two)  # its billing saw up to 19
        (statement,) = self.close(sub)
        (statement_two,) = self.close(sub_two)
        self.env.flush_all()
        cr = self.env.cr
        for name, xid in xids.items():
            cr.execute(
                "UPDATE usage_event_data SET accepted_xid = %s::text::xid8 WHERE id = %s",
                [xid, events[name].id],
            )
        cr.execute("UPDATE usage_event_data SET accepted_xid = '1005' WHERE id = %s", [old.id])
        new_snapshot, old_snapshot = "1000:1010:1003;;5", "10:20:;;1"
        cr.execute(
            "UPDATE usage_statement_line SET snapshot_to = %s WHERE statement_id = %s"
            " AND snapshot_to IS NOT NULL",
            [new_snapshot, statement.id],
        )
        cr.execute(
            "UPDATE usage_statement_line SET snapshot_to = %s WHERE statement_id = %s"
            " AND snapshot_to IS NOT NULL",
            [old_snapshot, statement_two.id],
        )
        self.env.invalidate_all()
        expected = {
            event.id
            for name, event in events.items()
            if not snapshots.seen(xids[name], 0, new_snapshot)
        } | {old.id}
        self.assertEqual(
            {events[name].id for name in ("in_flight", "accepted_after")}
            | {events["never_made_billable_by_one"].id, old.id},
            expected,
        )
        with freeze_time(NOW):
            overview = self.overview()
            self.assertEqual(overview.unbilled_event_count, len(expected))
            self.assertEqual(set(self.opened(overview.action_open_unbilled()).ids), expected)

    def test_reconciliation_variance_of_recent_periods(self):
        self.usage(self.calls, 30)
        (january,) = self.close(self.subscribe(self.plan))
        january.action_approve()
        self.usage(self.calls, 10, tenant=self.tenant_two)
        (other,) = self.close(self.subscribe(self.plan, tenant=self.tenant_two))
        other.action_approve()
        other.invoice_id.invoice_line_ids.price_unit = 0.5  # invoiced 5.00, stated 10.00
        with freeze_time(NOW):
            overview = self.overview()
            self.assertEqual(overview.reconciled_line_count, 2)
            self.assertEqual(overview.variance_line_count, 1)
            rows = self.opened(overview.action_open_variance())
            self.assertEqual(rows.statement_id, other)
            self.assertEqual(rows.amount_variance, 5.0)
            self.assertEqual(
                self.opened(overview.action_open_reconciliation()).statement_id, january | other
            )
        with freeze_time(NOW + timedelta(days=120)):
            # Long-closed periods leave the overview (the Reconciliation menu keeps them).
            self.assertEqual(self.overview().reconciled_line_count, 0)

    def test_a_figures_url_opens_its_overview_and_no_other_companys(self):
        user = new_test_user(
            self.env,
            login="ubc_overview_url",
            groups="usage_billing_connector.group_usage_billing_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        overviews = self.env["usage.billing.overview"].with_user(user)
        action = overviews.with_context(active_id=self.company.id)._open_figure("to_approve")
        self.assertEqual(action["domain"], self.overview().action_open_to_approve()["domain"])
        self.assertEqual(action["path"], "usage-billing-overview-to-approve")
        with self.assertRaises(AccessError):
            overviews.with_context(active_id=self.other.id)._open_figure("to_approve")
        with self.assertRaises(ValueError):
            overviews._open_figure("refresh")  # only the figures' lists

    def test_menu_opens_the_current_companys_overview(self):
        action = self.env["usage.billing.overview"].action_open()
        self.assertEqual(action["res_id"], self.company.id)
        overview = self.env["usage.billing.overview"].browse(action["res_id"])
        self.assertEqual(overview.company_id, self.company)
        menu = self.env.ref("usage_billing_connector.menu_usage_billing_overview")
        self.assertEqual(
            menu.parent_id, self.env.ref("usage_billing_connector.menu_usage_billing_root")
        )
        self.assertEqual(
            self.env["usage.billing.overview"].search([]).company_id,
            self.env.companies,
            "one overview per allowed company, none of the others",
        )


def breadcrumb_check(title):
    """JS for ``browser_js``: waits for the breadcrumb, then fails (console.error)
    unless it reads "Overview / <title>", with no "Unnamed" level."""
    return """
(async () => {
    const read = () => [...document.querySelectorAll(
        ".o_breadcrumb .breadcrumb-item, .o_breadcrumb .o_last_breadcrumb_item"
    )].map((item) => item.textContent.trim()).filter(Boolean);
    let crumbs = read();
    for (let waited = 0; crumbs.length < 2 && waited < 20000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        crumbs = read();
    }
    if (crumbs.join(" / ") === "Overview / " + TITLE) {
        console.log("test successful");
    } else {
        console.error("breadcrumb: " + crumbs.join(" / "));
    }
})();
""".replace("TITLE", json.dumps(title))


@tagged("post_install", "-at_install")
class TestOverviewNavigation(HttpCase):
    """What the web client reads to show the overview in its app, named "Overview"."""

    def setUp(self):
        super().setUp()
        login = "ubc_overview_reader"
        new_test_user(
            self.env, login=login, groups="usage_billing_connector.group_usage_billing_user"
        )
        self.authenticate(login, login)
        self.company = self.env.company

    def _reopen_by_url(self, opened):
        """What a reload of ``opened``'s URL shows: the client loads the action its
        path names and runs it on the overview (``active_id``)."""
        loaded = self.make_jsonrpc_request("/web/action/load", {"action_id": opened["path"]})
        self.assertEqual(loaded["type"], "ir.actions.server")
        return self.make_jsonrpc_request(
            "/web/action/run",
            {"action_id": loaded["id"], "context": {"active_id": self.company.id}},
        )

    def test_overview_url_belongs_to_the_usage_billing_app(self):
        # The client finds the app (and shows its menus) from the action in the URL:
        # the overview's URL is its action's path, which the menu must carry.
        menus = self.url_open("/web/webclient/load_menus").json()
        menu = self.env.ref("usage_billing_connector.menu_usage_billing_overview")
        self.assertEqual(menus[str(menu.id)]["actionPath"], "usage-billing-overview")
        root = self.env.ref("usage_billing_connector.menu_usage_billing_root")
        self.assertEqual(menus[str(menu.id)]["appID"], root.id)

    def test_breadcrumb_back_from_a_figure_reads_overview(self):
        # The breadcrumb of a figure's list opened from the overview, as the client
        # restores it from the URL /odoo/usage-billing-overview/<company>/action-<list>.
        statements = self.env.ref("usage_billing_connector.usage_statement_action")
        crumbs = self.make_jsonrpc_request(
            "/web/action/load_breadcrumbs",
            {
                "actions": [
                    {"action": "usage-billing-overview", "resId": self.company.id},
                    {"action": statements.id},
                ]
            },
        )
        self.assertEqual(crumbs, [{"display_name": "Overview"}, {"display_name": "Statements"}])

    def test_a_new_tab_of_a_figure_has_no_unnamed_level(self):
        # What the router asks for /odoo/usage-billing-overview/<company>/<figure>: a
        # level for the overview action's multi-record view first, which it has none
        # of. Odoo names it None (the client showed "Unnamed"); unnamed, it is dropped.
        company = self.company.id
        crumbs = self.make_jsonrpc_request(
            "/web/action/load_breadcrumbs",
            {
                "actions": [
                    {"action": "usage-billing-overview"},
                    {"action": "usage-billing-overview", "resId": company},
                    {"action": "usage-billing-overview-to-approve", "active_id": company},
                ]
            },
        )
        self.assertEqual(crumbs[0], {})
        self.assertEqual(crumbs[1], {"display_name": "Overview"})
        self.assertTrue(crumbs[2]["display_name"])

    def test_a_new_tab_of_a_figure_reads_overview_then_the_figure(self):
        # The same in Chromium: the breadcrumb a user sees on a figure's URL.
        url = f"/odoo/usage-billing-overview/{self.company.id}/usage-billing-overview-to-approve"
        self.browser_js(url, breadcrumb_check("Statements to approve"), login="ubc_overview_reader")

    def test_a_new_tab_of_a_quarantine_reason_reads_overview_then_the_reason(self):
        path = "usage-billing-overview-quarantine-unknown-tenant"
        url = f"/odoo/usage-billing-overview/{self.company.id}/{path}"
        self.browser_js(
            url, breadcrumb_check("Quarantine: Unknown tenant"), login="ubc_overview_reader"
        )

    def test_a_figures_list_url_opens_the_same_records_under_its_title(self):
        # A reload or a new tab of /odoo/usage-billing-overview/<company>/<path>: the
        # client loads the action the path names and runs it on the overview (active_id).
        # Each figure's path is the server action of its own figure.
        overview = self.env["usage.billing.overview"].browse(self.company.id)
        for method in sorted(name for name in dir(overview) if name.startswith("action_open_")):
            opened = getattr(overview, method)()
            if opened.get("view_mode") == "form" or "res_id" in opened:
                continue  # a record's form (the oldest event), or the overview itself
            with self.subTest(method=method):
                self.assertTrue(opened.get("path"), "a figure's list without a URL of its own")
                ran = self._reopen_by_url(opened)
                self.assertEqual(ran["display_name"], opened["display_name"])
                self.assertEqual(ran["res_model"], opened["res_model"])
                self.assertEqual(
                    ran["domain"], json.loads(json.dumps(opened["domain"], default=str))
                )
                self.assertEqual(ran["path"], opened["path"])

    def test_a_quarantine_reasons_list_url_opens_the_same_events_under_its_title(self):
        # /odoo/usage-billing-overview/<company>/usage-billing-overview-quarantine-<reason>:
        # one path per reason, so the URL holds even once the reason's row is gone.
        rows = self.env["usage.billing.overview.quarantine"]
        for reason in REASONS:
            opened = rows._reason_action(self.company, reason)
            with self.subTest(reason=reason):
                self.assertEqual(opened["context"]["active_id"], self.company.id)
                ran = self._reopen_by_url(opened)
                for key in ("display_name", "res_model", "domain", "path"):
                    self.assertEqual(ran[key], json.loads(json.dumps(opened[key])))
                self.assertIn(["quarantine_reason", "=", reason], ran["domain"])

    def test_the_menus_action_is_the_overviews(self):
        # The client finds the app of an action named by XML id in the URL
        # (/odoo/action-usage_billing_connector.usage_billing_overview_action) by the
        # id of the action it ends up showing: the one the menu opens.
        menu_action = self.env.ref("usage_billing_connector.usage_billing_overview_action")
        ran = self.make_jsonrpc_request("/web/action/run", {"action_id": menu_action.id})
        self.assertEqual(ran["id"], menu_action.id)
        self.assertEqual(ran["res_id"], self.company.id)
