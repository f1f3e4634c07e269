#!/usr/bin/env python3
"""Concurrent signed load with retried duplicates and conflicting ids, checked against the database.

Not a test: it drives a running Odoo (prefork workers) on loopback, for a bounded
time, and writes to its database.  ``--clients`` threads, each with its own
reference client (``tools/usage_client.py``: signing, retries, backoff), send
batches of four kinds, chosen at random:

``new``        fresh event ids (``tools/bench_ingest.make_events``); a share of
               them for an unknown tenant, which the API quarantines;
``duplicate``  an acknowledged batch sent again byte-identical (re-signed), like
               a client retrying after a lost answer: every event a duplicate;
``conflict``   events of an acknowledged batch with the same ``event_id`` and
               another quantity: every event rejected ``idempotency_conflict``;
``race``       a fresh batch sent by two connections at the same moment: each
               event stored once, answered once as stored and once as duplicate.

Every answer is checked (the four counts add up to the events sent, each kind
gets only the statuses it may get), then the database: exactly the acknowledged
events are stored, once each, with their original payload and the expected
state; events of a batch whose answer never came (retries exhausted) may be
stored or not, never twice.  The run ends with the sustained rate, the p50/p99
latency of HTTP requests and the raw PostgreSQL insert rate measured in the same
run (``bench_ingest``'s yardstick).  Exit status 1 when an invariant fails.
"""

import argparse
import contextlib
import itertools
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ingest
import usage_client
from load_checks import COUNTS, GHOST_TENANT, KINDS, Ledger, check_rows, percentile
from pg_env import pg_dsn

CONFLICT_SIZE = 20  # events per conflicting batch


def send_twice(client, twin, events):
    """The same batch from two connections at once (a client retrying too early)."""
    answers = {}
    other = threading.Thread(target=lambda: answers.update(twin=twin.send(events)))
    other.start()
    answers["client"] = client.send(events)
    other.join()
    return [answers["client"], answers["twin"]]


class LoadRun:
    """One load: the database side (key, rate limit, rows of the run) and the clients."""

    def __init__(self, args, secret, dsn):
        self.args, self.secret, self.dsn = args, secret, dsn
        with self._db() as conn:
            self.key = bench_ingest.fetch_key(conn, args.key)
        self.run = f"load-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-"
        self.ledger = Ledger()
        self.batch_numbers = itertools.count(1)
        self.elapsed = 0.0

    # -- clients

    def _client(self):
        session = requests.Session()

        def timed(response, *args, **kwargs):
            with self.ledger.lock:
                self.ledger.latencies.append(response.elapsed.total_seconds())

        session.hooks["response"].append(timed)
        return usage_client.UsageClient(
            self.args.url,
            self.args.key,
            self.secret,
            batch_size=self.args.batch_size,
            session=session,
        )

    def _new_batch(self, rng):
        # One counter for every client and every drive: an id is never reused.
        prefix = f"{self.run}b{next(self.batch_numbers)}-"
        events = bench_ingest.make_events(self.args.batch_size, prefix, seed=rng.random())
        ghosts = 0
        for event in events:
            if rng.random() < self.args.quarantine:
                event["tenant"], ghosts = GHOST_TENANT, ghosts + 1
        return events, ghosts

    def _loop(self, number, deadline, stop):
        args, ledger = self.args, self.ledger
        rng = random.Random(args.seed * 1000 + number)
        with self._client() as client, self._client() as twin:
            while time.monotonic() < deadline and not stop.is_set():
                draw, earlier = rng.random(), ledger.pick_batch(rng)
                if earlier and draw < args.duplicates:
                    ledger.record("duplicate", earlier, [client.send(earlier)])
                elif earlier and draw < args.duplicates + args.conflicts:
                    conflicting = [
                        {**event, "quantity": int(float(event["quantity"])) + 1}
                        for event in earlier[:CONFLICT_SIZE]
                    ]
                    ledger.record("conflict", conflicting, [client.send(conflicting)])
                elif draw < args.duplicates + args.conflicts + args.races:
                    events, ghosts = self._new_batch(rng)
                    ledger.record("race", events, send_twice(client, twin, events), ghosts)
                else:
                    events, ghosts = self._new_batch(rng)
                    ledger.record("new", events, [client.send(events)], ghosts)

    def drive(self, seconds, stop=None):
        """Run the clients for ``seconds`` (or until ``stop`` is set); returns the elapsed time."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._loop, args=(n, deadline, stop))
            for n in range(self.args.clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.monotonic() - started
        return self.elapsed

    def settle(self):
        """Send the batches whose retries ran out again, as their client would later."""
        with self.ledger.lock:
            unanswered, self.ledger.unanswered = self.ledger.unanswered, []
        with self._client() as client:
            for events, ghosts in unanswered:
                self.ledger.record("resend", events, [client.send(events)], ghosts)
        return len(unanswered)

    # -- database

    @contextlib.contextmanager
    def _db(self):
        """A connection per use: a drill may restart PostgreSQL in between."""
        conn = bench_ingest.connect(self.dsn)
        try:
            yield conn
        finally:
            conn.close()

    def rows(self):
        with self._db() as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT e.event_id, e.state, k.payload_hash FROM usage_event e"
                " JOIN usage_event_key k USING (company_id, event_id)"
                " WHERE e.company_id = %s AND e.event_id LIKE %s",
                (self.key["company_id"], self.run + "%"),
            )
            return cr.fetchall()

    def check_database(self):
        rows = self.rows()
        return rows, check_rows(rows, self.ledger.acknowledged, self.ledger.in_doubt)

    def raw_rate(self, count):
        """bench_ingest's yardstick: the same INSERT from psycopg2, same concurrency."""
        with self._db() as conn:
            lookups = bench_ingest.fetch_lookups(conn, self.key["company_id"])
            bench_ingest.checkpoint(conn)
        prefix = self.run + "raw-"
        batches = [
            bench_ingest.raw_params(batch, self.key, lookups)
            for batch in bench_ingest.chunks(
                bench_ingest.make_events(count, prefix), self.args.batch_size
            )
        ]
        options = SimpleNamespace(threads=self.args.clients)
        try:
            seconds, inserted = bench_ingest.bench_raw(
                options, self.dsn, bench_ingest.insert_sql(), batches
            )
        finally:
            with self._db() as conn:
                bench_ingest.delete_rows(conn, self.key["company_id"], prefix)
        return inserted / seconds

    def __enter__(self):
        with self._db() as conn:
            bench_ingest.set_key_rate_limit(conn, self.key["id"], bench_ingest.UNLIMITED)
        return self

    def __exit__(self, *exc_info):
        with self._db() as conn:
            bench_ingest.set_key_rate_limit(conn, self.key["id"], self.key["rate_limit"])
            if not self.args.keep_rows:
                bench_ingest.delete_rows(conn, self.key["company_id"], self.run)


# ------------------------------------------------------------------ report


def report(run, rows, db_problems, raw=None):
    ledger, lines = run.ledger, []
    header = ("batches", "events", *COUNTS, "requests", "retries", "failed_batches")
    labels = (*header[:-1], "failed")
    lines.append(f"{'kind':<10}" + "".join(f"{name:>12}" for name in labels))
    total = Counter()
    for kind in KINDS:
        total.update(ledger.tally[kind])
        lines.append(f"{kind:<10}" + "".join(f"{ledger.tally[kind][n]:>12}" for n in header))
    lines.append(f"{'total':<10}" + "".join(f"{total[n]:>12}" for n in header))
    answered = sum(total[name] for name in COUNTS)
    stored = total["accepted"] + total["quarantined"]
    p50, p99 = percentile(ledger.latencies, 0.5), percentile(ledger.latencies, 0.99)
    lines += [
        f"sustained: {answered / run.elapsed:,.0f} events/s answered, {stored / run.elapsed:,.0f}"
        f" new events/s stored, over {run.elapsed:.1f} s",
        f"request latency: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
        f" ({len(ledger.latencies)} HTTP requests)"
        if ledger.latencies
        else "request latency: no request answered",
    ]
    if raw:
        lines.append(
            f"raw INSERT (psycopg2, same run): {raw:,.0f} events/s;"
            f" stored/raw {stored / run.elapsed / raw:.1%}, answered/raw"
            f" {answered / run.elapsed / raw:.1%}"
        )
    lines.append(
        f"database: {len(rows)} rows, {len({r[0] for r in rows})} distinct ids;"
        f" acknowledged {len(ledger.acknowledged)}, in doubt {len(ledger.in_doubt)}"
    )
    problems = ledger.problems + db_problems
    lines += [f"PROBLEM: {problem}" for problem in problems[:50]]
    lines.append("invariants: " + ("FAILED" if problems else "all held"))
    return "\n".join(lines), problems


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069", help="Odoo base URL (loopback)")
    parser.add_argument("--db", required=True, help="the database Odoo serves")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load")
    parser.add_argument("--warmup", type=float, default=5, help="untimed seconds first")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--batch-size", type=int, default=200, help="events per new batch")
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of resent batches")
    parser.add_argument("--conflicts", type=float, default=0.1, help="share of conflict batches")
    parser.add_argument("--races", type=float, default=0.05, help="share of raced new batches")
    parser.add_argument("--quarantine", type=float, default=0.05, help="share of unknown tenant")
    parser.add_argument("--raw-events", type=int, default=50_000, help="0: no raw yardstick")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--key", default="demo-key", help="API key id")
    parser.add_argument("--secret-env", default="USAGE_SECRET", help="variable with the secret")
    parser.add_argument("--keep-rows", action="store_true", help="keep the run's events")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        print(f"error: environment variable {args.secret_env} is not set", file=sys.stderr)
        return 2
    print(
        f"# load: {args.seconds:g} s, {args.clients} clients, batches of {args.batch_size},"
        f" duplicates {args.duplicates:.0%}, conflicts {args.conflicts:.0%}, races"
        f" {args.races:.0%}, {os.cpu_count()} CPUs, {args.url} db={args.db}",
        flush=True,
    )
    with LoadRun(args, secret, pg_dsn(args.db)) as run:
        run.drive(args.warmup)  # every worker loads the registry on its first request
        run.ledger.restart_clock()
        run.drive(args.seconds)
        run.settle()
        rows, db_problems = run.check_database()
        raw = run.raw_rate(args.raw_events) if args.raw_events else None
        text, problems = report(run, rows, db_problems, raw)
    print(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
