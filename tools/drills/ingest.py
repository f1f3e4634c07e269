"""Drills (a) and (b): a fault in the middle of a duplicate-laden ingestion load.

The load is ``tools/load_ingest.py``'s (reference clients with their retry
logic, new events, resent batches, conflicting ids, raced batches); the fault
is injected from another thread while it runs.  Afterwards every batch whose
retries ran out is sent again, as its client would once the outage is over, and
the database must hold exactly the acknowledged events, once each, with their
original payload.
"""

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from types import SimpleNamespace

import load_ingest


def load_options(options, seconds):
    return SimpleNamespace(
        url=options.server.url,
        key=options.key,
        seconds=seconds,
        clients=options.clients,
        batch_size=options.batch_size,
        duplicates=0.2,
        conflicts=0.1,
        races=0.05,
        quarantine=0.05,
        seed=options.seed,
        keep_rows=False,
    )


def under_load(options, seconds, fault):
    """Run the load for ``seconds`` and ``fault()`` in the middle; returns (text, problems)."""
    server = options.server
    with load_ingest.LoadRun(load_options(options, seconds), options.secret, server.dsn) as run:
        driver = threading.Thread(target=run.drive, args=(seconds,))
        driver.start()
        evidence = fault()
        driver.join()
        resent = run.settle()
        rows, db_problems = run.check_database()
        text, problems = load_ingest.report(run, rows, db_problems)
        tally = sum((run.ledger.tally[kind] for kind in load_ingest.KINDS), start=Counter())
    observed = tally["retries"] > 0
    lines = [
        *evidence,
        text,
        f"batches sent again after the load: {resent}",
        f"Odoo exited by itself and was started again (seconds, exit code): {server.restarts}",
    ]
    if not observed:
        problems = [*problems, "the fault was not observed by any client (no retry)"]
    return "\n".join(lines), problems


def pg_restart(options):
    """(a) PostgreSQL restarted while the clients send."""
    server = options.server

    def fault():
        time.sleep(options.seconds * 0.3)
        started = time.monotonic()
        done = subprocess.run(options.pg_restart, shell=True, capture_output=True, text=True)
        took = time.monotonic() - started
        return [
            f"restarted PostgreSQL with `{options.pg_restart}` at +{options.seconds * 0.3:.0f} s"
            f" (exit {done.returncode}, {took:.1f} s) {done.stderr.strip()[:200]}",
            f"Odoo log lines mentioning OperationalError since start:"
            f" {server.log_count('OperationalError')}",
        ]

    return under_load(options, options.seconds, fault)


def worker_kill(options):
    """(b) Odoo HTTP workers killed with SIGKILL in the middle of requests."""
    server, rng = options.server, random.Random(options.seed)

    def fault():
        evidence, kills = [], 0
        time.sleep(options.seconds * 0.2)
        deadline = time.monotonic() + options.seconds * 0.6
        while kills < options.kills and time.monotonic() < deadline:
            busy = server.serving_pids()
            if not busy:
                time.sleep(0.01)
                continue
            pid = rng.choice(busy)
            server_kill(pid)
            kills += 1
            evidence.append(f"SIGKILL worker {pid} while it held a request (busy: {busy})")
            time.sleep(options.seconds * 0.6 / max(options.kills, 1))
        evidence.append(f"workers after the kills: {server.children()}")
        return evidence

    text, problems = under_load(options, options.seconds, fault)
    if "SIGKILL worker" not in text:
        problems = [*problems, "no worker was caught in the middle of a request"]
    return text, problems


def server_kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
