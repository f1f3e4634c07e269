"""The test command never reports skipped browser tours as a success."""

from pathlib import Path

import tour_report
from tour_report import TourTest

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ("usage_billing_connector", "crm_sync_connector")
UBC = "odoo.addons.usage_billing_connector.tests.test_tours"
CRM = "odoo.addons.crm_sync_connector.tests.test_tours"
APPROVE = TourTest(
    UBC, "TestTours.test_accountant_approves_a_statement_and_opens_its_draft_invoice"
)
QUARANTINE = TourTest(
    UBC, "TestTours.test_admin_maps_the_tenant_of_a_quarantined_event_and_reprocesses_it"
)
REPLAY = TourTest(CRM, "TestTours.test_admin_replays_a_dead_message")
TOURS = [APPROVE, QUARANTINE, REPLAY]
#: The flows of the later screens, clicked through on the demo data.
DEMO_TOURS = [
    TourTest(f"{UBC}_demo", f"TestDemoTours.{test}")
    for test in (
        "test_overview_figures_open_the_records_behind_them",
        "test_overview_and_its_figures_open_in_a_new_tab",
        "test_accountant_registers_the_payment_that_ends_a_suspension",
        "test_manager_grants_a_promotional_credit",
        "test_admin_registers_a_webhook_endpoint_with_its_secret",
        "test_accountant_approves_the_correction_of_a_disputed_period",
    )
]


def log(logger, msg, level="INFO"):
    return f"2026-12-02 08:00:00,123 4242 {level} ubc_test {logger}: {msg} \n"  # as Odoo writes it


def test_the_addons_tours_are_found_in_the_sources():
    assert tour_report.find_tour_tests(ROOT, ADDONS) == [APPROVE, QUARANTINE, *DEMO_TOURS, REPLAY]


def test_only_test_methods_calling_start_tour_count():
    source = (
        "class A:\n"
        "    def test_tour(self):\n        self.start_tour('/odoo', 'x', login='admin')\n"
        "    def test_plain(self):\n        self.url_open('/odoo')\n"
        "    def helper(self):\n        self.start_tour('/odoo', 'y')\n"
    )
    assert tour_report.tour_tests_in_source(source, "m") == [TourTest("m", "A.test_tour")]


def test_all_passed_when_neither_skipped_nor_failed():
    outcomes = tour_report.tour_outcomes(TOURS, [log(UBC, "Starting TestTours.test_x ...")])
    lines, not_run = tour_report.report(TOURS, outcomes, completed=True)
    assert lines == ["tours: 3 of 3 run, 3 passed, 0 failed, 0 skipped"]
    assert not_run == 0


def test_skipped_tours_are_reported_with_odoos_reason():
    lines_in = [
        log(UBC, f"skipped {APPROVE.test} : Chrome executable not found"),
        log(UBC, f"skipped {QUARANTINE.test} : Chrome executable not found"),
        log(CRM, f"skipped {REPLAY.test} : websocket-client module is not installed"),
        log("odoo.addons.other.tests.test_x", "skipped TestTours.test_y : whatever"),
    ]
    lines, not_run = tour_report.report(
        TOURS, tour_report.tour_outcomes(TOURS, lines_in), completed=True
    )
    assert not_run == 3
    assert lines[0] == "tours: 0 of 3 run, 0 passed, 0 failed, 3 skipped"
    assert lines[1] == (
        "tours NOT RUN (3): Odoo skipped them: "
        "Chrome executable not found; websocket-client module is not installed"
    )
    assert f"    skipped crm_sync_connector: {REPLAY.test}" in lines


def test_a_failed_tour_is_named():
    lines_in = [log(CRM, f"FAIL: {REPLAY.test}", level="ERROR"), "Traceback (most recent...\n"]
    lines, not_run = tour_report.report(
        TOURS, tour_report.tour_outcomes(TOURS, lines_in), completed=True
    )
    assert lines == [
        "tours: 3 of 3 run, 2 passed, 1 failed, 0 skipped",
        f"    FAILED crm_sync_connector: {REPLAY.test}",
    ]
    assert not_run == 0


def test_an_incomplete_run_ran_no_tour():
    lines, not_run = tour_report.report(TOURS, {}, completed=False)
    assert lines == ["tours NOT RUN: the Odoo test run did not complete (3 tours)"]
    assert not_run == 3


def test_browser_problem_names_what_odoo_would_miss():
    def no_which(_name):
        return None

    def found(_name):
        return object()

    assert tour_report.browser_problem(which=lambda b: "/usr/bin/" + b, find_spec=found) is None
    problem = tour_report.browser_problem(which=no_which, environ={}, find_spec=no_which)
    assert "websocket-client is not installed" in problem
    assert "no Chromium/Chrome executable" in problem
    override = {"ODOO_BROWSER_BIN": __file__}  # an existing file stands in for the binary
    assert tour_report.browser_problem(which=no_which, environ=override, find_spec=found) is None
