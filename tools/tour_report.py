"""Whether the addons' browser tours ran: Odoo skips them, it does not fail them.

``HttpCase.start_tour`` needs a Chromium binary and the ``websocket-client``
package; without either, Odoo logs one ``skipped`` line per test and counts it as
skipped (``odoo/tests/common.py``), which a green summary would hide. The test
command finds the tour tests in the sources, says before the Odoo run whether
they can run, and afterwards reads the Odoo log to report each tour as passed,
failed or skipped with Odoo's reason. Plain Python: no Odoo import.
"""

import ast
import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

#: The executables Odoo looks for on Linux (``_find_executable``), plus its override.
BROWSERS = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")
BROWSER_ENV = "ODOO_BROWSER_BIN"
LOG_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) \S+ "
    r"(?P<logger>[\w.]+): (?P<msg>.*)$"
)
SKIPPED_RE = re.compile(r"^skipped (?P<test>\S+) : (?P<reason>.*)$")
FAILED_RE = re.compile(r"^(?:FAIL|ERROR): (?P<test>\S+)")


@dataclass(frozen=True)
class TourTest:
    module: str  # e.g. odoo.addons.crm_sync_connector.tests.test_tours (Odoo's logger name)
    test: str  # e.g. TestTours.test_admin_replays_a_dead_message (Odoo's test description)

    def __str__(self):
        return f"{self.module.split('.')[2]}: {self.test}"


def tour_tests_in_source(source, module):
    """Test methods of ``source`` that call ``start_tour``, as Odoo names them."""
    found = []
    for cls in ast.walk(ast.parse(source)):
        if not isinstance(cls, ast.ClassDef):
            continue
        for method in cls.body:
            if not (isinstance(method, ast.FunctionDef) and method.name.startswith("test_")):
                continue
            if any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "start_tour"
                for node in ast.walk(method)
            ):
                found.append(TourTest(module, f"{cls.name}.{method.name}"))
    return found


def find_tour_tests(root, addons):
    tours = []
    for addon in addons:
        for path in sorted((Path(root) / addon / "tests").glob("test_*.py")):
            module = f"odoo.addons.{addon}.tests.{path.stem}"
            tours += tour_tests_in_source(path.read_text(encoding="utf-8"), module)
    return tours


def browser_problem(which=shutil.which, environ=os.environ, find_spec=importlib.util.find_spec):
    """Why Odoo would skip tours on this machine, or None when it can run them."""
    problems = []
    if find_spec("websocket") is None:
        problems.append("the Python package websocket-client is not installed")
    override = environ.get(BROWSER_ENV)
    if not (override and os.path.exists(override)) and not any(which(b) for b in BROWSERS):
        problems.append(f"no Chromium/Chrome executable ({', '.join(BROWSERS)}) on PATH")
    return "; ".join(problems) or None


def tour_outcomes(tours, log_lines):
    """``{tour: (outcome, detail)}`` from an Odoo test log; outcome passed/failed/skipped.

    A tour test with neither a skip nor a failure line passed, provided the run
    reached its test report (the caller knows).
    """
    wanted = {(t.module, t.test): t for t in tours}
    outcomes = dict.fromkeys(tours, ("passed", ""))
    for line in log_lines:
        match = LOG_RE.match(line.rstrip())  # Odoo ends its log lines with a space
        if not match:
            continue
        for regex, outcome in ((SKIPPED_RE, "skipped"), (FAILED_RE, "failed")):
            found = regex.match(match["msg"])
            tour = found and wanted.get((match["logger"], found["test"]))
            if tour:
                outcomes[tour] = (outcome, found.groupdict().get("reason", ""))
    return outcomes


def report(tours, outcomes, completed):
    """Summary lines for the test command, and how many tours did not run."""
    if not tours:
        return ["tours: none found"], 0
    if not completed:
        return [f"tours NOT RUN: the Odoo test run did not complete ({len(tours)} tours)"], len(
            tours
        )
    by_outcome = {}
    for tour in tours:
        outcome, detail = outcomes.get(tour, ("passed", ""))
        by_outcome.setdefault(outcome, []).append((tour, detail))
    lines = []
    skipped = by_outcome.get("skipped", [])
    ran = len(tours) - len(skipped)
    lines.append(
        f"tours: {ran} of {len(tours)} run, {len(by_outcome.get('passed', []))} passed, "
        f"{len(by_outcome.get('failed', []))} failed, {len(skipped)} skipped"
    )
    for tour, _detail in by_outcome.get("failed", []):
        lines.append(f"    FAILED {tour}")
    if skipped:
        reasons = sorted({detail for _tour, detail in skipped})
        lines.append(f"tours NOT RUN ({len(skipped)}): Odoo skipped them: {'; '.join(reasons)}")
        lines += [f"    skipped {tour}" for tour, _detail in skipped]
    return lines, len(skipped)
