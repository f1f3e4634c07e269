#!/usr/bin/env python3
"""Latency of the read API beside the raw SQL of the same aggregate (not a test).

``python3 tools/bench_read_api.py [--events 1000000] [--background-events 0]``

Creates a fresh database with both addons and demo data (``--reuse`` keeps a
database of an earlier run), then:

1. adds tenant ``bench-read`` on the demo plan ``growth-monthly`` (graduated
   ``api_calls``, volume ``storage_gb`` with an allowance, ``active_users``
   counting distinct users) whose current period started 29 days ago, and
   ``--events`` events spread over those 29 days — inserted with the very
   statement ingestion runs (``utils/ingest_sql.py``), batches of 1,000, so the
   daily rollups are written the way production writes them;
2. optionally ``--background-events`` more for 100 other tenants, over the last
   12 months (a grown event table);
3. starts Odoo with 2 HTTP workers and measures, one request at a time like a
   page load, signed ``GET /usage`` and ``GET /entitlements`` of ``bench-read``:
   client-side latency (p50, p90, p99, max) — first with the rollup deltas as
   ingestion left them (``--requests-as-ingested``, 50: each batch spreads over
   the whole period, so every batch wrote a delta row per metric and day, the
   worst case), then ``--requests`` (500) after the hourly compaction cron;
4. yardsticks in the same run: the raw SQL of the same aggregate (count, sum,
   max, distinct users per metric) over the tenant's events of the period, and
   Odoo's own floor, ``GET /web/health`` on the same server (what any request
   costs before our code runs).

Target (issue 12): p99 ≤ 50 ms for ``usage`` and ``entitlements`` with 1,000,000
events in the period.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import addon_packages
import odoo_command
import run_tests
import usage_client

addon_packages.register()
from usage_billing_connector.utils.ingest_sql import INSERT_EVENTS_SQL  # noqa: E402

TENANT = "bench-read"
METRICS = ("api_calls", "storage_gb", "active_users")
BATCH = 1000
TARGET_P99_MS = 50
PORT = 8769

RAW_AGGREGATE_SQL = """
SELECT e.metric_id, count(*), sum(e.quantity), max(e.quantity),
       count(DISTINCT e.properties ->> 'user_id')
  FROM usage_event e
 WHERE e.tenant_id = %s AND e.state = 'accepted'
   AND e.occurred_at >= %s AND e.occurred_at < %s
 GROUP BY e.metric_id
"""


def create_database(db, config):
    run_tests.drop_database(db)
    print(f"creating database {db} with both addons and demo data...", flush=True)
    cmd = [sys.executable, "-m", "odoo", "server", "-c", str(config), "-d", db, "-i"]
    cmd += [",".join(run_tests.ADDONS), "--with-demo", "--stop-after-init", "--log-level=warn"]
    subprocess.run(cmd, check=True)


def setup_tenant(env, now):
    """Tenant, subscription anchored 29 days ago, and an API key scoped to it."""
    plan = env.ref("usage_billing_connector.demo_plan_growth_monthly")
    company = plan.company_id
    start = (now - timedelta(days=29)).replace(hour=0, minute=0, second=0, microsecond=0)
    tenant = env["usage.tenant"].search([("external_id", "=", TENANT)])
    if not tenant:
        partner = env["res.partner"].create({"name": "Read API bench customer"})
        tenant = env["usage.tenant"].create(
            {"external_id": TENANT, "partner_id": partner.id, "company_id": company.id}
        )
        naive = start.replace(tzinfo=None)
        env["usage.subscription"].create(
            {
                "tenant_id": tenant.id,
                "company_id": company.id,
                "plan_id": plan.id,
                "seats": 3,
                "start_date": naive,
                "billing_anchor": naive,
            }
        )
    key = env["usage.api.key"].create({"name": f"bench {uuid.uuid4().hex[:6]}"})
    secret = uuid.uuid4().hex
    key._set_secret(secret)
    key.rate_limit = 1_000_000_000
    metric_ids = {
        code: env.ref(f"usage_billing_connector.demo_metric_{code}").id for code in METRICS
    }
    env.flush_all()
    return company, tenant, key, secret, metric_ids, start


def event_batches(count, tenants, metric_ids, start, seconds, prefix, seed):
    """Deterministic accepted events, as ``raw_params`` of ``tools/bench_ingest.py``."""
    rng = random.Random(seed)
    codes = list(metric_ids)
    for first in range(0, count, BATCH):
        size = min(BATCH, count - first)
        rows = []
        for n in range(first, first + size):
            code = codes[n % 3]
            tenant_id, tenant_ref = tenants[n % len(tenants)]
            rows.append(
                (
                    f"{prefix}-{n}",
                    tenant_id,
                    tenant_ref,
                    metric_ids[code],
                    code,
                    rng.randint(1, 1000),
                    start + timedelta(seconds=rng.randrange(seconds)),
                    json.dumps({"user_id": f"u{rng.randrange(1000)}"}),
                )
            )
        yield rows


def insert_events(cr, company_id, key_id, batches):
    inserted = 0
    for rows in batches:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        columns = list(zip(*rows, strict=True))
        cr.execute(
            INSERT_EVENTS_SQL,
            {
                "company_id": company_id,
                "api_key_id": key_id,
                "request_id": str(uuid.uuid4()),
                "now": now,
                "uid": 1,
                "event_ids": list(columns[0]),
                "tenant_ids": list(columns[1]),
                "tenant_refs": list(columns[2]),
                "metric_ids": list(columns[3]),
                "metric_codes": list(columns[4]),
                "quantities": list(columns[5]),
                "occurred_ats": list(columns[6]),
                "properties": list(columns[7]),
                "states": ["accepted"] * len(rows),
                "reasons": [None] * len(rows),
                "hashes": [uuid.uuid4().hex for _ in rows],
            },
        )
        inserted += len(cr.fetchall())
        cr.commit()
    return inserted


def background_tenants(env, company, count):
    partner = env["res.partner"].create({"name": "Background bench customer"})
    tenants = env["usage.tenant"].search([("external_id", "=like", "bench-bg-%")])
    if not tenants:
        tenants = env["usage.tenant"].create(
            [
                {"external_id": f"bench-bg-{n}", "partner_id": partner.id, "company_id": company.id}
                for n in range(count)
            ]
        )
    return [(tenant.id, tenant.external_id) for tenant in tenants]


def percentiles(samples):
    ordered = sorted(samples)

    def pick(fraction):
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {
        "p50": statistics.median(ordered),
        "p90": pick(0.90),
        "p99": pick(0.99),
        "max": ordered[-1],
    }


def time_calls(call, count, warmup=20):
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - t0))
    return percentiles(samples)


def time_raw(cr, tenant_id, start, end, count):
    params = [tenant_id, start.replace(tzinfo=None), end.replace(tzinfo=None)]

    def call():
        cr.execute(RAW_AGGREGATE_SQL, params)
        return cr.fetchall()

    return time_calls(call, count, warmup=2), call()


def start_server(config, db):
    cmd = [*odoo_command.odoo_command(), "server", "-c", str(config), "-d", db]
    cmd += ["--workers=2", f"--http-port={PORT}", f"--gevent-port={PORT + 1}"]
    cmd += ["--max-cron-threads=0", "--log-level=warn"]
    server = subprocess.Popen(cmd)
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/web/health", timeout=2):
                return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise SystemExit("Odoo did not start")


def row(name, figures):
    cells = " ".join(f"{figures[k]:>8.1f}" for k in ("p50", "p90", "p99", "max"))
    return f"{name:<34} {cells}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_read_api")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--background-events", type=int, default=0)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--requests-as-ingested",
        type=int,
        default=50,
        help="requests before the rollup compaction (slow on purpose: the worst case)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-read-")
    config = run_tests.write_odoo_config(tmp, args.db)
    if not args.reuse:
        create_database(args.db, config)

    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config as odoo_config  # noqa: PLC0415

    odoo_config.parse_config(["-c", str(config)])
    registry = Registry(args.db)
    now = datetime.now(timezone.utc)
    run = uuid.uuid4().hex[:8]
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company, tenant, key, secret, metric_ids, start = setup_tenant(env, now)
        key_ref, tenant_id = key.key_id, tenant.id
        cr.commit()
        seconds = int((now - start).total_seconds()) - 60
        t0 = time.perf_counter()
        batches = event_batches(
            args.events, [(tenant.id, TENANT)], metric_ids, start, seconds, f"r{run}", 1
        )
        inserted = insert_events(cr, company.id, key.id, batches)
        print(f"inserted {inserted:,} events for {TENANT} in {time.perf_counter() - t0:.0f} s")
        if args.background_events:
            others = background_tenants(env, company, 100)
            cr.commit()
            year = now - timedelta(days=365)
            batches = event_batches(
                args.background_events, others, metric_ids, year, 365 * 86400, f"b{run}", 2
            )
            count = insert_events(cr, company.id, key.id, batches)
            print(f"inserted {count:,} background events for 100 other tenants")
        cr.execute("ANALYZE")
        cr.commit()
        cr.execute("SELECT count(*) FROM usage_event_data")
        stored = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*) FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s",
            [tenant_id, start.replace(tzinfo=None)],
        )
        in_period = cr.fetchone()[0]

    results = []
    url = f"http://127.0.0.1:{PORT}"
    for phase in ("as ingested", "compacted"):
        if phase == "compacted":
            with registry.cursor() as cr:
                env = api.Environment(cr, odoo.SUPERUSER_ID, {})
                env["usage.event"]._cron_compact_rollups()
            # What autovacuum does soon after: the compaction deleted every delta row
            # (hundreds of thousands here), which scans would otherwise still visit.
            for table in ("usage_rollup", "usage_rollup_distinct"):
                run_tests.psql(f"VACUUM ANALYZE {table}", args.db)
        with registry.cursor() as cr:
            cr.execute(
                "SELECT (SELECT count(*) FROM usage_rollup WHERE tenant_id = %(t)s),"
                " (SELECT count(*) FROM usage_rollup_distinct WHERE tenant_id = %(t)s)",
                {"t": tenant_id},
            )
            rollups = "{:,} + {:,}".format(*cr.fetchone())
        server = start_server(config, args.db)
        try:
            client = usage_client.UsageClient(url, key_ref, secret)
            count = args.requests if phase == "compacted" else args.requests_as_ingested
            usage = time_calls(lambda c=client: c.usage(TENANT), count)
            entitlements = time_calls(lambda c=client: c.entitlements(TENANT), count)
            health = time_calls(lambda c=client: c.session.get(f"{url}/web/health").content, count)
            answer = client.usage(TENANT)
            client.close()
        finally:
            server.terminate()
            server.wait()
        results.append((phase, rollups, usage, entitlements, health))
    with registry.cursor() as cr:
        raw, aggregates = time_raw(cr, tenant_id, start, now, 20)
        codes = {v: k for k, v in metric_ids.items()}

    print(f"\nRead API, tenant with {in_period:,} events in its period; {stored:,} events stored")
    print(f"{'ms (one request at a time)':<34} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for phase, rollups, usage, entitlements, _health in results:
        print(row(f"GET usage, {phase} ({rollups} rollups)", usage))
        print(row(f"GET entitlements, {phase}", entitlements))
    print(row("GET /web/health (Odoo's floor)", results[-1][4]))
    print(row("raw SQL of the same aggregate", raw))
    used = {m["metric"]: m["used"] for m in answer["metrics"]}
    print(f"usage answer: used {used}, amount_untaxed {answer['amount_untaxed']}")
    expected = {
        codes[metric_id]: {"sum": total, "max": top, "unique_count": distinct}
        for metric_id, _count, total, top, distinct in aggregates
    }
    print(f"raw SQL: {expected} (sum for api_calls, max for storage_gb, distinct for users)")
    worst = max(max(r[2]["p99"], r[3]["p99"]) for r in results[-1:])
    verdict = "met" if worst <= TARGET_P99_MS else "NOT met"
    print(f"target p99 <= {TARGET_P99_MS} ms (compacted): {verdict} ({worst:.1f} ms)")


if __name__ == "__main__":
    main()
