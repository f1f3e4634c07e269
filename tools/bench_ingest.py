#!/usr/bin/env python3
"""Ingestion throughput of a running Odoo, next to its own yardstick.

Not a test: it needs a running Odoo (several workers) on a database with both
addons and their demo data, and it writes to that database.  In one run it
measures

(a) **endpoint**: events/s through ``POST /usage_billing/v1/events``, signed
    batches of 1,000 sent with ``tools/usage_client.py`` by ``--threads``
    concurrent clients, with event ids unique to the run;
(b) **raw**: the rate at which PostgreSQL alone stores the same rows in the same
    ``usage_event`` table, from psycopg2 with the very ``INSERT ... SELECT FROM
    unnest(...) ON CONFLICT DO NOTHING`` statement of the model (read from
    ``models/usage_event.py`` so the two cannot drift), same batch size, same
    concurrency, one transaction per batch like one request.

The ratio (a)/(b) says how much of what the database could take the HTTP layer,
the parsing and the ORM leave.  Targets: ≥ 50 % of raw and ≥ 20,000 events/s.

The key's rate limit would throttle the run, so it is lifted *on the key*
(``usage_api_key.rate_limit``) for the run and restored afterwards.  The key row
is read from the database on every request; the global setting
(``ir.config_parameter``) is cached by each Odoo worker, so changing it in SQL
would not reach the running workers.  The rate counter is still hit once per
request, as in production.

Each phase's rows are deleted (and the table vacuumed) right after the phase,
so that every phase starts from the same table (``--keep-rows`` keeps them);
the ingestion log rows of its requests stay, like those of any client.
``--rounds N`` repeats endpoint + raw N times and judges the targets on the
medians: on a small shared machine one round is noisy.

This module runs the phases; ``bench_ingest_events`` makes the events,
``bench_ingest_db`` is the SQL side and ``bench_ingest_report`` the results table.
"""

import argparse
import json
import os
import queue
import secrets
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import usage_client
from bench_ingest_db import (
    checkpoint,
    connect,
    count_rows,
    delete_rows,
    fetch_key,
    fetch_lookups,
    server_durations,
    set_key_rate_limit,
    stored_events,
)
from bench_ingest_events import make_events
from bench_ingest_report import Round, report
from pg_env import pg_dsn

from usage_billing_connector.core.payload import parse_event

ROOT = Path(__file__).resolve().parent.parent
UNLIMITED = 1_000_000_000


def insert_sql():
    """``INSERT_EVENTS_SQL`` of the model: the very statement ingestion runs."""
    from usage_billing_connector.utils.ingest_sql import INSERT_EVENTS_SQL  # noqa: PLC0415

    return INSERT_EVENTS_SQL


def chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_threads(threads, batches, work):
    """Run ``work(batch, state)`` over a shared queue; return (seconds, per-thread states).

    A shared queue rather than fixed shards: a thread whose requests happen to
    be slower does not leave the others idle at the end.
    """
    jobs = queue.SimpleQueue()
    for batch in batches:
        jobs.put(batch)
    start = threading.Barrier(threads + 1)
    states = [{} for _ in range(threads)]
    errors = []

    def loop(state):
        start.wait()
        try:
            while True:
                try:
                    batch = jobs.get_nowait()
                except queue.Empty:
                    return
                work(batch, state)
        except Exception as exc:  # reported after the run, not lost in a thread
            errors.append(exc)

    workers = [threading.Thread(target=loop, args=(state,)) for state in states]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, states


# ------------------------------------------------------------------ endpoint


def bench_endpoint(args, secret, batches):
    def work(batch, state):
        if "client" not in state:
            state["client"] = usage_client.UsageClient(
                args.url, args.key, secret, batch_size=args.batch_size
            )
            state["summaries"] = []
        state["summaries"].append(state["client"].send(batch))

    elapsed, states = run_threads(args.threads, batches, work)
    total = usage_client.Summary()
    for state in states:
        if "client" in state:
            state["client"].close()
        for summary in state.get("summaries", ()):
            for name in (
                "accepted",
                "duplicates",
                "quarantined",
                "rejected",
                "requests",
                "retries",
                "failed_batches",
            ):
                setattr(total, name, getattr(total, name) + getattr(summary, name))
            total.errors += summary.errors
    return elapsed, total


# ----------------------------------------------------------------------- raw


def raw_params(batch, key, lookups):
    """The parameters ``UsageEvent._insert_rows`` passes, for accepted events."""
    parsed = [parse_event(raw) for raw in batch]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return {
        "company_id": key["company_id"],
        "api_key_id": key["id"],
        "request_id": str(uuid.uuid4()),
        "now": now,
        "uid": 1,
        "event_ids": [e.event_id for e in parsed],
        "tenant_ids": [lookups["tenants"][e.tenant] for e in parsed],
        "tenant_refs": [e.tenant for e in parsed],
        "metric_ids": [lookups["metrics"][e.metric] for e in parsed],
        "metric_codes": [e.metric for e in parsed],
        "quantities": [e.quantity for e in parsed],
        "occurred_ats": [e.occurred_at.replace(tzinfo=None) for e in parsed],
        "properties": [json.dumps(e.properties) for e in parsed],
        "states": ["accepted"] * len(parsed),
        "reasons": [None] * len(parsed),
        "hashes": [e.payload_hash for e in parsed],
    }


def bench_raw(args, dsn, sql, param_batches):
    # Connected before the clock starts, like Odoo's pooled connections.
    connections = [psycopg2.connect(dsn) for _ in range(args.threads)]
    pool = queue.SimpleQueue()
    for conn in connections:
        pool.put(conn)

    def work(params, state):
        if "conn" not in state:
            state["conn"], state["inserted"] = pool.get_nowait(), 0
        with state["conn"].cursor() as cr:
            cr.execute(sql, params)
            state["inserted"] += len(cr.fetchall())
        state["conn"].commit()

    try:
        elapsed, states = run_threads(args.threads, param_batches, work)
    finally:
        for conn in connections:
            conn.close()
    return elapsed, sum(state.get("inserted", 0) for state in states)


# ----------------------------------------------------------------------- CLI


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069", help="Odoo base URL")
    parser.add_argument("--db", required=True, help="the database Odoo serves")
    parser.add_argument("--events", type=int, default=100_000, help="events per phase")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per request")
    parser.add_argument("--rounds", type=int, default=1, help="endpoint + raw rounds")
    parser.add_argument("--key", default="demo-key", help="API key id")
    parser.add_argument(
        "--secret-env", default="USAGE_SECRET", help="variable holding the key's secret"
    )
    parser.add_argument("--label", default="", help="free text printed with the results")
    parser.add_argument("--keep-rows", action="store_true", help="keep the benchmark's rows")
    return parser


class Bench:
    """One benchmark run: the database side (key, lookups, cleanup) and the phases."""

    def __init__(self, args, secret, dsn):
        self.args, self.secret, self.dsn = args, secret, dsn
        self.admin = connect(dsn)
        self.key = fetch_key(self.admin, args.key)
        self.lookups = fetch_lookups(self.admin, self.key["company_id"])
        self.sql = insert_sql()
        self.run = f"bench-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}-"
        self.prefixes = []
        self.problems = []
        # The benchmark's events occur two hours ago (bench_ingest_events): counting
        # and deleting them looks at the last day only, not at the stored history.
        self.since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=1)

    def prefix(self, name):
        self.prefixes.append(self.run + name)
        return self.run + name

    def reset(self, prefix):
        """Delete a phase's rows and vacuum: every phase starts from the same table."""
        if not self.args.keep_rows:
            delete_rows(self.admin, self.key["company_id"], prefix, self.since)

    def warm_up(self):
        """Every Odoo worker loads the registry on its first request: not timed."""
        prefix = self.prefix("w-")
        count = self.args.batch_size * max(self.args.threads, 2) * 2
        _, summary = bench_endpoint(
            self.args, self.secret, chunks(make_events(count, prefix, seed=7), self.args.batch_size)
        )
        if summary.failed_batches:
            raise SystemExit(f"warm-up failed: {summary.errors[:3]}")
        self.reset(prefix)

    def endpoint_phase(self, number):
        args, company_id = self.args, self.key["company_id"]
        prefix = self.prefix(f"{number}e-")
        # Prepared before the clock starts: generating events is not ingesting them.
        batches = chunks(make_events(args.events, prefix), args.batch_size)
        checkpoint(self.admin)
        since = datetime.now(timezone.utc).replace(tzinfo=None)
        seconds, summary = bench_endpoint(args, self.secret, batches)
        server = server_durations(self.admin, self.key["id"], since)
        stored = count_rows(self.admin, company_id, prefix, "accepted", self.since)
        print(f"round {number} endpoint: {summary.line()}; {stored} rows stored", flush=True)
        if summary.failed_batches or summary.accepted != args.events or stored != args.events:
            self.problems.append(f"endpoint did not store every event: {summary.errors[:3]}")
        self.reset(prefix)
        return summary.accepted, seconds, server

    def raw_phase(self, number):
        args = self.args
        prefix = self.prefix(f"{number}r-")
        batches = [
            raw_params(batch, self.key, self.lookups)
            for batch in chunks(make_events(args.events, prefix), args.batch_size)
        ]
        checkpoint(self.admin)
        seconds, inserted = bench_raw(args, self.dsn, self.sql, batches)
        print(f"round {number} raw: {inserted} rows inserted", flush=True)
        if inserted != args.events:
            self.problems.append(f"raw inserted {inserted} of {args.events} rows")
        self.reset(prefix)
        return inserted, seconds

    def execute(self):
        rounds = []
        set_key_rate_limit(self.admin, self.key["id"], UNLIMITED)
        try:
            self.warm_up()
            for number in range(1, self.args.rounds + 1):
                e_events, e_seconds, server = self.endpoint_phase(number)
                r_events, r_seconds = self.raw_phase(number)
                rounds.append(Round(e_events, e_seconds, r_events, r_seconds, server))
        finally:
            set_key_rate_limit(self.admin, self.key["id"], self.key["rate_limit"])
            for prefix in self.prefixes:  # after an interruption too
                self.reset(prefix)
            self.admin.close()
        return rounds


def main(argv=None):
    args = build_parser().parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        print(f"error: environment variable {args.secret_env} is not set", file=sys.stderr)
        return 2
    dsn = pg_dsn(args.db)
    print(
        f"# {args.events} events per phase, batches of {args.batch_size}, {args.threads} threads,"
        f" {args.rounds} round(s), {os.cpu_count()} CPUs, {args.url} db={args.db}"
        f" {args.label}".rstrip(),
        flush=True,
    )
    bench = Bench(args, secret, dsn)
    print(f"# events already stored: {stored_events(bench.admin):,}", flush=True)
    rounds = bench.execute()
    print()
    print(report(args, rounds))
    for problem in bench.problems:
        print("PROBLEM:", problem)
    return 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
