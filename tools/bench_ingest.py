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
"""

import argparse
import getpass
import json
import os
import queue
import random
import secrets
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import usage_client

from usage_billing_connector.core.payload import parse_event

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("acme", "globex")
METRICS = ("api_calls", "storage_gb", "active_users")
TARGET_RATIO = 0.5
TARGET_RATE = 20_000
UNLIMITED = 1_000_000_000


def insert_sql():
    """``INSERT_EVENTS_SQL`` of the model: the very statement ingestion runs."""
    from usage_billing_connector.utils.ingest_sql import INSERT_EVENTS_SQL  # noqa: PLC0415

    return INSERT_EVENTS_SQL


def make_events(count, prefix, seed=42):
    """Realistic, valid, deterministic events: integers, decimal strings, properties."""
    rng = random.Random(seed)
    base = datetime.now(timezone.utc) - timedelta(hours=2)
    events = []
    for n in range(count):
        metric = METRICS[n % 3]
        if metric == "api_calls":
            quantity, properties = rng.randint(1, 1000), {"endpoint": "/v1/items"}
        elif metric == "storage_gb":
            quantity, properties = f"{rng.randint(0, 100_000) / 100:.2f}", {}
        else:
            quantity, properties = 1, {"user_id": f"u{rng.randint(1, 500)}"}
        moment = base + timedelta(milliseconds=n)
        events.append(
            {
                "event_id": f"{prefix}{n:08d}",
                "tenant": TENANTS[n % 2],
                "metric": metric,
                "quantity": quantity,
                "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "properties": properties,
            }
        )
    return events


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


# ---------------------------------------------------------------- database


def connect(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def fetch_key(conn, key_id):
    with conn.cursor() as cr:
        cr.execute(
            "SELECT id, company_id, rate_limit FROM usage_api_key WHERE key_id = %s AND active",
            (key_id,),
        )
        row = cr.fetchone()
    if not row:
        raise SystemExit(f"no active API key {key_id!r} in the database")
    return {"id": row[0], "company_id": row[1], "rate_limit": row[2]}


def fetch_lookups(conn, company_id):
    with conn.cursor() as cr:
        cr.execute(
            "SELECT external_id, id FROM usage_tenant WHERE company_id = %s"
            " AND external_id = ANY(%s) AND state = 'active'",
            (company_id, list(TENANTS)),
        )
        tenants = dict(cr.fetchall())
        cr.execute(
            "SELECT code, id FROM usage_metric WHERE company_id = %s AND active AND code = ANY(%s)",
            (company_id, list(METRICS)),
        )
        metrics = dict(cr.fetchall())
    missing = sorted(set(TENANTS) - set(tenants)) + sorted(set(METRICS) - set(metrics))
    if missing:
        raise SystemExit(f"demo tenants/metrics missing (install with --with-demo): {missing}")
    return {"tenants": tenants, "metrics": metrics}


def set_key_rate_limit(conn, key_id, value):
    with conn.cursor() as cr:
        cr.execute("UPDATE usage_api_key SET rate_limit = %s WHERE id = %s", (value, key_id))


def count_rows(conn, company_id, prefix, state=None):
    with conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM usage_event WHERE company_id = %s AND event_id LIKE %s"
            " AND (%s IS NULL OR state = %s)",
            (company_id, prefix + "%", state, state),
        )
        return cr.fetchone()[0]


def delete_rows(conn, company_id, prefix):
    with conn.cursor() as cr:
        cr.execute(
            "DELETE FROM usage_event WHERE company_id = %s AND event_id LIKE %s",
            (company_id, prefix + "%"),
        )
        deleted = cr.rowcount
        if deleted:
            cr.execute("VACUUM ANALYZE usage_event")
    return deleted


def checkpoint(conn):
    """Flush dirty pages before a timed phase, so neither phase pays for the other's writes."""
    try:
        with conn.cursor() as cr:
            cr.execute("CHECKPOINT")
    except psycopg2.Error:
        pass  # needs superuser or pg_checkpoint; the run is only a bit noisier without it


def server_durations(conn, key_id, since):
    """What the server itself logged for the timed requests (ms per request)."""
    with conn.cursor() as cr:
        cr.execute(
            "SELECT count(*), avg(duration_ms),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)"
            " FROM usage_ingest_log WHERE api_key_id = %s AND create_date >= %s",
            (key_id, since),
        )
        return cr.fetchone()


# -------------------------------------------------------------------- report


@dataclass
class Round:
    endpoint_events: int
    endpoint_seconds: float
    raw_events: int
    raw_seconds: float
    server: tuple  # requests, mean, p50, p95 server-side ms per request

    @property
    def endpoint_rate(self):
        return self.endpoint_events / self.endpoint_seconds

    @property
    def raw_rate(self):
        return self.raw_events / self.raw_seconds

    @property
    def ratio(self):
        return self.endpoint_rate / self.raw_rate


def report(args, rounds):
    """One table per round, then the medians, on which the targets are judged."""
    header = f"{'':<10}{'phase':<26}{'events':>9}{'seconds':>9}{'events/s':>10}{'ratio':>8}"
    lines = [header]
    for number, result in enumerate(rounds, 1):
        lines += [
            f"{f'round {number}':<10}{'endpoint (HTTP, signed)':<26}{result.endpoint_events:>9}"
            f"{result.endpoint_seconds:>9.2f}{result.endpoint_rate:>10,.0f}{result.ratio:>8.1%}",
            f"{'':<10}{'raw INSERT (psycopg2)':<26}{result.raw_events:>9}"
            f"{result.raw_seconds:>9.2f}{result.raw_rate:>10,.0f}",
        ]
    e_rate = statistics.median(r.endpoint_rate for r in rounds)
    r_rate = statistics.median(r.raw_rate for r in rounds)
    ratio = statistics.median(r.ratio for r in rounds)
    label = "median" if len(rounds) > 1 else "result"
    lines += [
        f"{label:<10}{'endpoint':<26}{'':>18}{e_rate:>10,.0f}{ratio:>8.1%}",
        f"{'':<10}{'raw':<26}{'':>18}{r_rate:>10,.0f}",
        "",
        f"target endpoint >= {TARGET_RATIO:.0%} of raw:      "
        + ("met" if ratio >= TARGET_RATIO else "MISSED"),
        f"target endpoint >= {TARGET_RATE:,} events/s: "
        + ("met" if e_rate >= TARGET_RATE else "MISSED"),
    ]
    for number, result in enumerate(rounds, 1):
        count, avg, p50, p95 = result.server
        if count:
            lines.append(
                f"round {number}: server-side time per request of {args.batch_size} events"
                f" ({count} requests): mean {avg:.0f} ms, p50 {p50:.0f} ms, p95 {p95:.0f} ms"
            )
    return "\n".join(lines)


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

    def prefix(self, name):
        self.prefixes.append(self.run + name)
        return self.run + name

    def reset(self, prefix):
        """Delete a phase's rows and vacuum: every phase starts from the same table."""
        if not self.args.keep_rows:
            delete_rows(self.admin, self.key["company_id"], prefix)

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
        stored = count_rows(self.admin, company_id, prefix, "accepted")
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
    dsn = psycopg2.extensions.make_dsn(
        dbname=args.db,
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", getpass.getuser()),
        password=os.environ.get("PGPASSWORD") or None,
    )
    print(
        f"# {args.events} events per phase, batches of {args.batch_size}, {args.threads} threads,"
        f" {args.rounds} round(s), {os.cpu_count()} CPUs, {args.url} db={args.db}"
        f" {args.label}".rstrip(),
        flush=True,
    )
    bench = Bench(args, secret, dsn)
    rounds = bench.execute()
    print()
    print(report(args, rounds))
    for problem in bench.problems:
        print("PROBLEM:", problem)
    return 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
