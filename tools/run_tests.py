#!/usr/bin/env python3
"""The project's one test command: ``python3 tools/run_tests.py``.

1. Repo-level pytest suite (pure functional core + static checks), no Odoo needed.
2. ``ruff check`` and ``ruff format --check``.
3. When ``import odoo`` works: a fresh PostgreSQL database, both addons installed
   with their dependencies and demo data, every Odoo test of both addons run
   (and nothing else), the database dropped afterwards.

Browser tours run in headless Chromium; Odoo skips them without Chromium or
websocket-client, so the summary says how many tours ran, and why the others
did not (``tools/tour_report.py``). Set REQUIRE_TOURS=1 to count a skipped tour
as a failure (``.ci/run`` does once it has made sure Chromium is there).

Database connection: PGHOST, PGPORT, PGUSER, PGPASSWORD (defaults 127.0.0.1,
5432, current user).  Set KEEP_DB=1 to keep the test database.
Ends with ``total: N passed, N failed, N skipped`` and exits non-zero on failure.
"""

import ast
import importlib.util
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import tour_report
from pg_env import db_params

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ("usage_billing_connector", "crm_sync_connector")
#: Installed next to the addons for their tests only: Odoo's demo payment provider
#: plays saved cards (success and failure) for the collection tests; a production
#: database must not depend on it, so it is not in any manifest.
TEST_ONLY_ADDONS = ("payment_demo",)
LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) ")
REPORT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
SKIP_RE = re.compile(r" INFO \S+ \S+: skipped ")


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


def banner(title):
    print(f"\n===== {title} =====", flush=True)


def run_pytest():
    banner("repo-level pytest suite")
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}"],
            cwd=ROOT,
            check=False,
        )
        if not junit.exists():
            return Tally(failed=1)
        suite = ElementTree.parse(junit).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        tests, failures, errors, skipped = (
            int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")
        )
        tally = Tally(tests - failures - errors - skipped, failures + errors, skipped)
        if proc.returncode not in (0, 5) and not tally.failed:
            tally.failed = 1
        if tests == 0:
            print("pytest collected no test")
            tally.failed += 1
        return tally


def run_ruff():
    banner("ruff")
    tally = Tally()
    for args in (["check", "."], ["format", "--check", "."]):
        proc = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, check=False)
        if proc.returncode:
            tally.failed += 1
        else:
            tally.passed += 1
    return tally


def count_odoo_tests():
    count = 0
    for addon in ADDONS:
        for path in (ROOT / addon / "tests").glob("test_*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            count += sum(
                1
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            )
    return count


def odoo_importable():
    try:
        return importlib.util.find_spec("odoo.release") is not None
    except ModuleNotFoundError:
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair(taken=()):
    """A free port P with P + 1 free too (an Odoo node's HTTP and gevent ports).

    Chosen below Linux's ephemeral range (32768 and up): a port the kernel hands
    out for outgoing connections could be taken by one at any time, and a node's
    gevent port (P + 1) was, now and then ("Address already in use").
    """
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(20000, 32000, 2)
        if port in taken:
            continue
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two consecutive free ports below 32000")


def addons_path():
    """Odoo's own addons, every ``odoo/addons`` on sys.path (OCA wheels), ours."""
    import odoo  # noqa: PLC0415  (only importable in the Odoo tier)

    paths = []
    for base in odoo.__path__:
        paths += [Path(base) / "addons", Path(base).parent / "addons"]
    for entry in sys.path:
        paths.append(Path(entry) / "odoo" / "addons")
    paths.append(ROOT)
    unique = []
    for path in paths:
        if path.is_dir() and path.resolve() not in unique:
            unique.append(path.resolve())
    return ",".join(str(p) for p in unique)


def write_odoo_config(directory, db):
    params = db_params()
    config = Path(directory) / "odoo-test.conf"
    from cryptography.fernet import Fernet  # noqa: PLC0415

    lines = [
        "[options]",
        f"addons_path = {addons_path()}",
        f"db_host = {params['host']}",
        f"db_port = {params['port']}",
        f"db_user = {params['user']}",
        f"dbfilter = ^{db}$",
        f"data_dir = {Path(directory) / 'data'}",
        "list_db = False",
        "http_interface = 127.0.0.1",
        # Fresh keys for every run: nothing in the test database is readable afterwards.
        "[usage_billing]",
        f"encryption_keys = {Fernet.generate_key().decode()}",
        "[crm_sync]",
        f"encryption_keys = {Fernet.generate_key().decode()}",
    ]
    if params["password"]:
        lines.insert(5, f"db_password = {params['password']}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def psql(sql, dbname="postgres"):
    params = db_params()
    env = dict(os.environ, PGPASSWORD=params["password"])
    cmd = ["psql", "-h", params["host"], "-p", params["port"], "-U", params["user"]]
    cmd += ["-d", dbname, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)


def drop_database(db):
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def run_odoo_tests():
    banner("Odoo tests (" + ", ".join(ADDONS) + ")")
    db = f"ubc_test_{os.getpid()}_{secrets.token_hex(3)}"
    tmp = tempfile.mkdtemp(prefix="odoo-test-")
    config = write_odoo_config(tmp, db)
    cmd = [sys.executable, "-m", "odoo", "server", "-c", str(config), "-d", db]
    cmd += [
        "-i",
        ",".join(ADDONS + TEST_ONLY_ADDONS),
        "--with-demo",
        "--test-tags",
        ",".join("/" + a for a in ADDONS),
    ]
    cmd += ["--http-port", str(free_port()), "--gevent-port", str(free_port())]
    cmd += ["--stop-after-init", "--max-cron-threads=0", "--log-handler=odoo.tests.stats:INFO"]
    tours = tour_report.find_tour_tests(ROOT, ADDONS)
    problem = tour_report.browser_problem()
    if problem:
        print(f"Odoo tier: Odoo will skip the {len(tours)} browser tours: {problem}", flush=True)
    started = time.monotonic()
    errors, report, skipped, tour_lines = [], None, 0, []
    try:
        proc = subprocess.Popen(
            cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        for line in proc.stdout:
            sys.stdout.write(line)
            match = LOG_LINE_RE.match(line)
            if match and match["level"] in ("ERROR", "CRITICAL"):
                errors.append(line.rstrip())
            report = REPORT_RE.search(line) or report
            skipped += bool(SKIP_RE.search(line))
            if ".tests." in line and ("skipped " in line or "FAIL: " in line or "ERROR: " in line):
                tour_lines.append(line)
        returncode = proc.wait()
        two_nodes = run_two_nodes(config, db) if returncode == 0 else None
        installed = psql(
            f"SELECT name FROM ir_module_module WHERE state = 'installed' AND name IN {ADDONS}",
            dbname=db,
        ).stdout.split()
    finally:
        if not os.environ.get("KEEP_DB"):
            drop_database(db)
        shutil.rmtree(tmp, ignore_errors=True)
    tally = summarize_odoo_run(returncode, report, errors, skipped, installed, started)
    lines, tours_skipped = tour_report.report(
        tours, tour_report.tour_outcomes(tours, tour_lines), completed=report is not None
    )
    for line in lines:
        print("Odoo tier:", line)
    if tours_skipped and os.environ.get("REQUIRE_TOURS"):
        print("Odoo tier: REQUIRE_TOURS is set: skipped tours count as a failure")
        tally.failed += 1
    if two_nodes is not None:
        tally.add(two_nodes)
    return tally, [line for line in lines if not line.startswith(" ")]


def run_two_nodes(config, db):
    """``tools/two_nodes.py`` on the test database: two Odoo servers under concurrent load.

    Runs once the Odoo tests have passed (they leave the database as installed);
    ``SKIP_TWO_NODES=1`` skips it.  One test: passed or failed.
    """
    if os.environ.get("SKIP_TWO_NODES"):
        print("\ntwo-node test skipped (SKIP_TWO_NODES is set)")
        return Tally(skipped=1)
    banner("two Odoo nodes on one database (tools/two_nodes.py)")
    import two_nodes  # noqa: PLC0415  (imports the drills' HTTP and process helpers)

    node_a = free_port_pair()
    ports = f"{node_a},{free_port_pair(taken={node_a})}"
    status = two_nodes.main(
        ["--conf", str(config), "--db", db, "--ports", ports, "--crm-port", str(free_port())]
    )
    return Tally(passed=1) if status == 0 else Tally(failed=1)


def summarize_odoo_run(returncode, report, errors, skipped, installed, started):
    tally = Tally()
    if report:
        failed, errored, ran = (int(x) for x in report.groups())
        tally = Tally(ran - failed - errored - skipped, failed + errored, skipped)
    problems = []
    missing = sorted(set(ADDONS) - set(installed))
    if missing:
        problems.append(f"not installed: {', '.join(missing)}")
    if returncode:
        problems.append(f"odoo exited with status {returncode}")
    if report is None:
        problems.append("no test report found in the Odoo log")
    if errors:
        problems.append(f"{len(errors)} ERROR/CRITICAL log line(s):")
        problems += ["    " + line[:300] for line in errors[:20]]
    for problem in problems:
        print("Odoo tier:", problem)
    if problems and not tally.failed:
        tally.failed = 1
    print(
        f"Odoo tier: {tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped "
        f"in {time.monotonic() - started:.0f}s"
    )
    return tally


def main():
    started = time.monotonic()
    tally = Tally()
    tally.add(run_pytest())
    tally.add(run_ruff())
    if odoo_importable():
        odoo_tally, notes = run_odoo_tests()
        tally.add(odoo_tally)
    else:
        tours = tour_report.find_tour_tests(ROOT, ADDONS)
        notes = [f"tours NOT RUN: the Odoo tier did not run ({len(tours)} tours)"]
        print(
            f"\nOdoo tier NOT RUN: `import odoo` fails for {sys.executable}; "
            f"{count_odoo_tests()} Odoo tests of {', '.join(ADDONS)} were not run."
        )
    elapsed = time.monotonic() - started
    status = "FAILED" if tally.failed else "OK"
    banner(f"{status} in {elapsed:.0f}s")
    for note in notes:
        print(note)
    print(f"total: {tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
