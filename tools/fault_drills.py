#!/usr/bin/env python3
"""Fault drills against a real Odoo 19 (prefork workers, queue_job runner), rerunnable by a person.

Each drill starts its own Odoo on a fresh copy of a template database (both
addons installed with demo data), injects one fault, lets the system recover by
itself, checks the database, stops Odoo and prints what it did, the evidence and
a verdict (PASS/FAIL):

``pg``       (a) PostgreSQL restarted in the middle of an ingestion load;
``kill``     (b) Odoo HTTP workers SIGKILLed in the middle of requests of a load;
``billing``  (c) the worker running billing jobs SIGKILLed half way through a run;
``crm``      (d) the CRM (fake, separate process) down for ``--down-seconds``.

Loopback only.  The PostgreSQL restart hits every database of the cluster: run
it on a cluster of your own (the drills here used ``pg_createcluster 15 rel
--port 5433``).  Example::

    USAGE_SECRET=demo-secret-change-me python3 tools/fault_drills.py \\
        --conf /tmp/rel/odoo.conf --template rel_main --pg-port 5433 \\
        --pg-restart 'pg_ctlcluster --skip-systemctl-redirect 15 rel restart' all
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from drills import billing, crm, ingest
from drills.odoo_server import OdooServer

DRILLS = {
    "pg": ("(a) PostgreSQL restarted during a load", ingest.pg_restart),
    "kill": ("(b) HTTP worker SIGKILLed mid-request during a load", ingest.worker_kill),
    "billing": ("(c) billing run interrupted by SIGKILL", billing.billing_run),
    "crm": ("(d) CRM down, then back", crm.crm_outage),
}


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drills", nargs="+", choices=[*DRILLS, "all"])
    parser.add_argument("--conf", required=True, help="Odoo config (addons path, keys, queue_job)")
    parser.add_argument("--template", required=True, help="installed database to copy")
    parser.add_argument("--db", default="rel_drill", help="the drill's database (recreated)")
    parser.add_argument("--http-port", type=int, default=8481, help="Odoo port (+1: gevent)")
    parser.add_argument("--pg-port", default=os.environ.get("PGPORT", "5432"))
    parser.add_argument(
        "--pg-restart",
        default="pg_ctlcluster --skip-systemctl-redirect 15 main restart",
        help="shell command that restarts the PostgreSQL cluster of --pg-port",
    )
    parser.add_argument("--key", default="demo-key", help="API key id")
    parser.add_argument("--secret-env", default="USAGE_SECRET", help="variable with the secret")
    parser.add_argument("--seconds", type=float, default=60, help="(a)(b): length of the load")
    parser.add_argument("--clients", type=int, default=6, help="(a)(b): client threads")
    parser.add_argument("--batch-size", type=int, default=200, help="(a)(b): events per batch")
    parser.add_argument("--kills", type=int, default=3, help="(b)(c): SIGKILLs")
    parser.add_argument("--subscriptions", type=int, default=500, help="(c)")
    parser.add_argument("--events-per-subscription", type=int, default=20, help="(c)")
    parser.add_argument("--tenants", type=int, default=20, help="(d)")
    parser.add_argument("--down-seconds", type=float, default=60, help="(d): CRM outage")
    parser.add_argument("--max-attempts", type=int, default=8, help="(d): backend's attempts")
    parser.add_argument("--crm-port", type=int, default=8499, help="(d): fake CRM port")
    parser.add_argument("--journal", default="/tmp/fake-crm-journal.jsonl", help="(d)")
    parser.add_argument("--timeout", type=float, default=900, help="longest wait for recovery")
    parser.add_argument("--seed", type=int, default=1)
    return parser


def run_drill(name, options):
    title, drill = DRILLS[name]
    print(f"\n===== drill {title} =====", flush=True)
    server = OdooServer(
        options.conf,
        options.db,
        options.http_port,
        pg_port=options.pg_port,
        log=f"/tmp/odoo-drill-{name}.log",
    )
    server.recreate_database(options.template)
    options.server = server
    started = time.monotonic()
    try:
        with server:
            text, problems = drill(options)
    except Exception as exc:  # a drill that crashes is a failed drill, with its reason
        text, problems = f"drill crashed: {type(exc).__name__}: {exc}", [repr(exc)]
    print(text, flush=True)
    for problem in problems:
        print(f"PROBLEM: {problem}", flush=True)
    verdict = "FAIL" if problems else "PASS"
    print(
        f"verdict {name}: {verdict} ({time.monotonic() - started:.0f} s; Odoo log {server.log})",
        flush=True,
    )
    return verdict


def main(argv=None):
    options = build_parser().parse_args(argv)
    options.secret = os.environ.get(options.secret_env)
    if not options.secret:
        print(f"error: environment variable {options.secret_env} is not set", file=sys.stderr)
        return 2
    os.environ["PGPORT"] = str(options.pg_port)
    names = list(DRILLS) if "all" in options.drills else options.drills
    verdicts = {name: run_drill(name, options) for name in names}
    print("\n" + ", ".join(f"{name}: {verdict}" for name, verdict in verdicts.items()))
    return 0 if set(verdicts.values()) == {"PASS"} else 1


if __name__ == "__main__":
    sys.exit(main())
