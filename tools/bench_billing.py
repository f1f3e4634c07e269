#!/usr/bin/env python3
"""Benchmark of the billing run (not a test): ``python3 tools/bench_billing.py``.

Creates a fresh database with both addons and demo data, adds N
subscriptions on the demo plan ``growth-monthly`` (3 metrics), inserts usage for
last month, then times closing every subscription's period exactly as the
queue_job jobs do (``usage.period.closing._close_subscription``), one after the
other in one process.  The yardstick, measured in the same run on the same rows,
is PostgreSQL computing the same per-(tenant, metric) aggregates in one query and
marking the same events billed in one UPDATE.
Everything is rolled back: the database is left as it was.

Options: --db NAME (default bench_billing), --subscriptions N (1000),
--events 10000,100000,1000000, --keep-db.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_tests

MARK_ALL_SQL = """
UPDATE usage_event SET state = 'billed'
 WHERE tenant_id = ANY(%s) AND state = 'accepted' AND occurred_at >= %s AND occurred_at < %s
"""

AGGREGATE_ALL_SQL = """
SELECT e.tenant_id, e.metric_id,
       CASE m.aggregation
            WHEN 'sum' THEN sum(e.quantity)
            WHEN 'max' THEN max(e.quantity)
            WHEN 'unique_count' THEN count(DISTINCT e.properties ->> m.unique_property)
       END
  FROM usage_event e JOIN usage_metric m ON m.id = e.metric_id
 WHERE e.tenant_id = ANY(%s) AND e.state = 'accepted'
   AND e.occurred_at >= %s AND e.occurred_at < %s
 GROUP BY e.tenant_id, e.metric_id, m.aggregation, m.unique_property
"""

INSERT_EVENTS_SQL = """
INSERT INTO usage_event (event_id, company_id, tenant_id, tenant_ref, metric_id, metric_code,
                         quantity, occurred_at, received_at, properties, state, payload_hash)
SELECT 'bench-' || %(run)s || '-' || g, t.company_id, t.id, t.external_id, m.id, m.code,
       (g %% 97) + 1,
       %(start)s + ((g::bigint * 7919) %% %(seconds)s) * interval '1 second',
       now() at time zone 'UTC',
       jsonb_build_object('user_id', 'u' || (g %% 23)), 'accepted', 'bench'
  FROM generate_series(1, %(count)s) g
  JOIN LATERAL (SELECT * FROM usage_tenant WHERE id = (%(tenant_ids)s)[1 + g %% %(tenants)s]) t
       ON TRUE
  JOIN LATERAL (SELECT * FROM usage_metric WHERE id = (%(metric_ids)s)[1 + g %% 3]) m ON TRUE
"""


def create_database(db, config):
    run_tests.drop_database(db)
    print(f"creating database {db} with both addons and demo data...", flush=True)
    cmd = [sys.executable, "-m", "odoo", "server", "-c", str(config), "-d", db, "-i"]
    cmd += [",".join(run_tests.ADDONS), "--with-demo", "--stop-after-init", "--log-level=warn"]
    subprocess.run(cmd, check=True)


def last_month():
    first = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (first - timedelta(days=1)).replace(day=1)
    return start, first


def setup_subscriptions(env, count, start):
    plan = env.ref("usage_billing_connector.demo_plan_growth_monthly")
    company = plan.company_id
    partner = env["res.partner"].create({"name": "Bench customer"})
    tenants = env["usage.tenant"].create(
        [
            {"external_id": f"bench-{n}", "partner_id": partner.id, "company_id": company.id}
            for n in range(count)
        ]
    )
    naive_start = start.replace(tzinfo=None)
    subscriptions = env["usage.subscription"].create(
        [
            {
                "tenant_id": tenant.id,
                "company_id": company.id,
                "plan_id": plan.id,
                "seats": 1,
                "start_date": naive_start,
                "billing_anchor": naive_start,
            }
            for tenant in tenants
        ]
    )
    env.flush_all()
    return plan, tenants, subscriptions


def measure(env, events, subscriptions, tenants, metric_ids, start, end):
    cr = env.cr
    cr.execute("SAVEPOINT bench_size")
    cr.execute(
        INSERT_EVENTS_SQL,
        {
            "run": str(os.getpid()),
            "start": start.replace(tzinfo=None),
            "seconds": int((end - start).total_seconds()),
            "count": events,
            "tenant_ids": tenants.ids,
            "tenants": len(tenants),
            "metric_ids": metric_ids,
        },
    )
    cr.execute("ANALYZE usage_event")
    # Yardstick: the same aggregates and the same marking of every event as
    # billed, in two set-based statements, undone before the real run.
    period = [start.replace(tzinfo=None), end.replace(tzinfo=None)]
    cr.execute("SAVEPOINT bench_raw")
    t0 = time.perf_counter()
    cr.execute(AGGREGATE_ALL_SQL, [tenants.ids, *period])
    cr.fetchall()
    cr.execute(MARK_ALL_SQL, [tenants.ids, *period])
    raw = time.perf_counter() - t0
    cr.execute("ROLLBACK TO SAVEPOINT bench_raw")
    t0 = time.perf_counter()
    for subscription in subscriptions:
        env["usage.period.closing"]._close_subscription(subscription)
    env.flush_all()
    billing = time.perf_counter() - t0
    cr.execute(
        "SELECT count(*) FROM usage_event WHERE state = 'billed' AND tenant_id = ANY(%s)",
        [tenants.ids],
    )
    billed = cr.fetchone()[0]
    cr.execute("ROLLBACK TO SAVEPOINT bench_size")
    env.invalidate_all()
    return raw, billing, billed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_billing")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--events", default="10000,100000,1000000")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.events.split(",")]

    tmp = tempfile.mkdtemp(prefix="bench-billing-")
    config = run_tests.write_odoo_config(tmp, args.db)
    create_database(args.db, config)

    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config as odoo_config  # noqa: PLC0415

    odoo_config.parse_config(["-c", str(config)])
    registry = Registry(args.db)
    start, end = last_month()
    rows = []
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        _plan, tenants, subscriptions = setup_subscriptions(env, args.subscriptions, start)
        metric_ids = [
            env.ref(f"usage_billing_connector.demo_metric_{code}").id
            for code in ("api_calls", "storage_gb", "active_users")
        ]
        for events in sizes:
            raw, billing, billed = measure(
                env, events, subscriptions, tenants, metric_ids, start, end
            )
            rows.append((events, billed, raw, billing))
            print(
                f"  {events:>9,} events: billing {billing:7.2f} s, raw SQL {raw:6.3f} s",
                flush=True,
            )
        cr.rollback()

    print(f"\nBilling run: {args.subscriptions} subscriptions × 3 metrics, one process")
    print(
        f"{'events':>10} {'billed':>10} {'raw SQL s':>10} {'billing s':>10} "
        f"{'events/s':>10} {'ms/sub':>8} {'vs raw':>8}"
    )
    for events, billed, raw, billing in rows:
        print(
            f"{events:>10,} {billed:>10,} {raw:>10.3f} {billing:>10.2f} "
            f"{events / billing:>10,.0f} {1000 * billing / args.subscriptions:>8.1f} "
            f"{billing / raw:>7.1f}x"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"growth: {last[0] / first[0]:.0f}x the events took {last[3] / first[3]:.2f}x "
            f"the billing time and {last[2] / first[2]:.2f}x the raw SQL time"
        )
    if not args.keep_db:
        run_tests.drop_database(args.db)


if __name__ == "__main__":
    main()
