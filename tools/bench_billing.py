"""Benchmark of the billing run (not a test): ``python3 tools/bench_billing.py``.

Creates a fresh database with both addons and demo data, adds N
subscriptions on the demo plan ``growth-monthly`` (3 metrics), inserts usage for
last month straight into the event store (its monthly partition), then times
closing every subscription's period exactly as the queue_job jobs do
(``usage.period.closing._close_subscriptions`` on batches of
``usage_billing.billing_batch_size`` subscriptions), one job after the other in
one process.  The yardstick, measured in the same run on the same rows, is
PostgreSQL computing the same per-(tenant, metric) aggregates in one ``GROUP BY``
(no ``UPDATE``: billing writes no row per event).
Everything is rolled back: the database is left as it was.

Options: --db NAME (default bench_billing), --subscriptions N (1000),
--events 10000,100000,1000000, --batch N (the job batch size, default the
setting), --reuse-db (an existing database with both addons and demo data:
neither created nor dropped), --keep-db, --profile FILE (cProfile of the last
billing run).

Large runs in two steps, so that the untimed setup need not hold a quiet machine:
``--prepare TAG`` (with ``--subscriptions`` and one ``--events`` size) commits
TAG's tenants, subscriptions and events (subscriptions created in ORM batches of
``--setup-batch``, events in one ``INSERT ... SELECT generate_series`` per
million, then ``VACUUM ANALYZE``); ``--measure TAG`` times billing them against
the aggregate (rolled back, as above); ``--drop TAG`` deletes TAG's events (its
tenants and subscriptions stay, never billed).  ``--prepare`` creates the
database afresh unless ``--reuse-db``; the others never create nor drop it.  A TAG's tenants are
``bench-TAG-<n>``; keep one TAG's events at a time in the month when comparing
sizes, so that the yardstick reads only them.
"""

import argparse
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_tests
from pg_env import pg_dsn

AGGREGATE_ALL_SQL = """
SELECT e.tenant_id, e.metric_id,
       CASE m.aggregation
            WHEN 'sum' THEN sum(e.quantity)
            WHEN 'max' THEN max(e.quantity)
            WHEN 'unique_count' THEN count(DISTINCT e.properties ->> m.unique_property)
       END
  FROM usage_event_data e JOIN usage_metric m ON m.id = e.metric_id
 WHERE e.tenant_id = ANY(%s) AND e.state = 'accepted'
   AND e.occurred_at >= %s AND e.occurred_at < %s
 GROUP BY e.tenant_id, e.metric_id, m.aggregation, m.unique_property
"""

# Accepted by this transaction (accepted_xid/seq as ingestion writes them); the
# event keys are not needed by billing and are left out.
INSERT_EVENTS_SQL = """
INSERT INTO usage_event_data (event_id, company_id, tenant_id, tenant_ref, metric_id,
                              metric_code, quantity, occurred_at, received_at, properties,
                              state, accepted_xid, accepted_seq)
SELECT 'bench-' || %(run)s || '-' || g, t.company_id, t.id, t.external_id, m.id, m.code,
       (g %% 97) + 1,
       %(start)s + ((g::bigint * 7919) %% %(seconds)s) * interval '1 second',
       now() at time zone 'UTC',
       jsonb_build_object('user_id', 'u' || (g %% 23)), 'accepted',
       pg_current_xact_id(), nextval('usage_event_accepted_seq')
  FROM generate_series(%(first)s + 1, %(count)s) g
  JOIN LATERAL (SELECT * FROM usage_tenant WHERE id = (%(tenant_ids)s)[1 + g %% %(tenants)s]) t
       ON TRUE
  JOIN LATERAL (SELECT * FROM usage_metric WHERE id = (%(metric_ids)s)[1 + g %% 3]) m ON TRUE
"""

# Events billed by the run's statement lines (the derivation the UI uses).
BILLED_COUNT_SQL = """
SELECT count(*) FROM usage_statement_line l
  JOIN usage_event_data e ON {billed}
 WHERE l.tenant_id = ANY(%s) AND e.occurred_at >= %s AND e.occurred_at < %s
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


def setup_subscriptions(env, count, start, tag="", batch=5000):
    """``count`` tenants ``bench-[TAG-]<n>``, each with a subscription on the demo plan.

    Created in ORM batches of ``batch``, the cache emptied between them: one
    ``create`` of 100,000 records keeps them all in memory.
    """
    plan = env.ref("usage_billing_connector.demo_plan_growth_monthly")
    company = plan.company_id
    partner = env["res.partner"].create({"name": "Bench customer"})
    naive_start = start.replace(tzinfo=None)
    prefix = f"bench-{tag}-" if tag else "bench-"
    tenant_ids, subscription_ids = [], []
    for first in range(0, count, batch):
        tenants = env["usage.tenant"].create(
            [
                {"external_id": f"{prefix}{n}", "partner_id": partner.id, "company_id": company.id}
                for n in range(first, min(first + batch, count))
            ]
        )
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
        tenant_ids += tenants.ids
        subscription_ids += subscriptions.ids
        env.invalidate_all()
        if count > batch:
            print(f"  {len(subscription_ids):,} of {count:,} subscriptions", flush=True)
    return (
        plan,
        env["usage.tenant"].browse(tenant_ids),
        env["usage.subscription"].browse(subscription_ids),
    )


def prepared(env, tag):
    """The tenants and subscriptions ``--prepare TAG`` committed."""
    tenants = env["usage.tenant"].search([("external_id", "=like", f"bench-{tag}-%")])
    subscriptions = env["usage.subscription"].search([("tenant_id", "in", tenants.ids)])
    if not tenants or len(subscriptions) != len(tenants):
        raise SystemExit(f"nothing prepared under {tag!r} (run --prepare {tag} first)")
    return tenants, subscriptions


def insert_events(env, events, tenants, metric_ids, start, end, chunk=None, commit=False):
    """``events`` accepted events of last month spread over ``tenants`` and 3 metrics.

    ``chunk`` events per statement (and per transaction with ``commit``).
    """
    cr = env.cr
    chunk = chunk or events
    run = str(os.getpid())
    for first in range(0, events, chunk):
        count = min(chunk, events - first)
        cr.execute(
            INSERT_EVENTS_SQL,
            {
                "run": run,
                "first": first,
                "start": start.replace(tzinfo=None),
                "seconds": int((end - start).total_seconds()),
                "count": first + count,
                "tenant_ids": tenants.ids,
                "tenants": len(tenants),
                "metric_ids": metric_ids,
            },
        )
        if commit:
            cr.commit()
            print(f"  {first + count:,} of {events:,} events", flush=True)
    if not commit:
        cr.execute("ANALYZE usage_event_data")


def bill(env, subscriptions, batch):
    """Close the subscriptions' periods job by job, as the queue_job workers would.

    Returns the seconds spent in ``ANALYZE``.  In production each job commits and
    autovacuum re-analyzes the statement tables once they have grown by 10 % (+50
    rows); here every job is in one transaction that autovacuum never sees, so the
    planner would keep costing the tables as they were before the run (at 100,000
    subscriptions: parallel sequential scans of every statement line, growing with
    each job).  The run analyzes at autovacuum's thresholds itself, outside the
    billing time, as autovacuum works outside the jobs.
    """
    closing = env["usage.period.closing"]
    env.cr.execute("SELECT count(*) FROM usage_statement")
    analyzed, written, analyzing = env.cr.fetchone()[0], 0, 0.0
    for index in range(0, len(subscriptions), batch):
        written += len(closing._close_subscriptions(subscriptions[index : index + batch]))
        if written > 0.1 * analyzed + 50:
            env.flush_all()
            t0 = time.perf_counter()
            env.cr.execute("ANALYZE usage_statement, usage_statement_line, usage_period_recheck")
            analyzing += time.perf_counter() - t0
            analyzed, written = analyzed + written, 0
    env.flush_all()
    return analyzing


def measure(env, events, subscriptions, tenants, metric_ids, start, end, batch, profile=None):
    """Time billing against the aggregate; ``events`` None: the events are already stored."""
    from odoo.addons.usage_billing_connector.models.usage_event_billing import (  # noqa: PLC0415
        BILLED_EVENT_SQL,
    )

    cr = env.cr
    cr.execute("SAVEPOINT bench_size")
    if events is not None:
        insert_events(env, events, tenants, metric_ids, start, end)
    period = [start.replace(tzinfo=None), end.replace(tzinfo=None)]
    # Yardstick: the same aggregates, one set-based statement.
    t0 = time.perf_counter()
    cr.execute(AGGREGATE_ALL_SQL, [tenants.ids, *period])
    cr.fetchall()
    raw = time.perf_counter() - t0
    env.invalidate_all()
    t0 = time.perf_counter()
    if profile:
        profiler = cProfile.Profile()
        analyzing = profiler.runcall(bill, env, subscriptions, batch)
        profiler.dump_stats(profile)
    else:
        analyzing = bill(env, subscriptions, batch)
    billing = time.perf_counter() - t0 - analyzing
    print(f"  ANALYZE of the statement tables (autovacuum's work, not counted): {analyzing:.2f} s")
    cr.execute(BILLED_COUNT_SQL.format(billed=BILLED_EVENT_SQL), [tenants.ids, *period])
    billed = cr.fetchone()[0]
    cr.execute(
        "SELECT count(*) FROM usage_statement WHERE subscription_id = ANY(%s)",
        [subscriptions.ids],
    )
    statements = cr.fetchone()[0]
    cr.execute("ROLLBACK TO SAVEPOINT bench_size")
    env.invalidate_all()
    return raw, billing, billed, statements


METRIC_CODES = ("api_calls", "storage_gb", "active_users")


def prepare(env, args, start, end):
    """``--prepare TAG``: commit TAG's subscriptions and events (not timed)."""
    cr, (events,) = env.cr, [int(size) for size in args.events.split(",")]
    t0 = time.perf_counter()
    _plan, tenants, _subs = setup_subscriptions(
        env, args.subscriptions, start, args.prepare, args.setup_batch
    )
    cr.commit()
    print(f"  {args.subscriptions:,} subscriptions set up in {time.perf_counter() - t0:.1f} s")
    metric_ids = [env.ref(f"usage_billing_connector.demo_metric_{c}").id for c in METRIC_CODES]
    t0 = time.perf_counter()
    insert_events(env, events, tenants, metric_ids, start, end, chunk=1_000_000, commit=True)
    vacuum(args.db, start)
    print(f"  {events:,} events stored in {time.perf_counter() - t0:.1f} s")


def drop(env, tag, start, end):
    """``--drop TAG``: delete TAG's events of the month (no key rows were written)."""
    tenants, _subscriptions = prepared(env, tag)
    env.cr.execute(
        "DELETE FROM usage_event_data WHERE tenant_id = ANY(%s)"
        " AND occurred_at >= %s AND occurred_at < %s",
        [tenants.ids, start.replace(tzinfo=None), end.replace(tzinfo=None)],
    )
    print(f"  {env.cr.rowcount:,} events of {tag} deleted")
    env.cr.commit()
    vacuum(env.cr.dbname, start)


def vacuum(db, start):
    """VACUUM ANALYZE the month: neither timed reader pays for setting hint bits."""
    import psycopg2  # noqa: PLC0415

    from odoo.addons.usage_billing_connector.utils import event_store  # noqa: PLC0415

    conn = psycopg2.connect(pg_dsn(db))
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f"VACUUM ANALYZE {event_store.partition_name(start.date())}")
    conn.close()


def stored_count(env, tenants, start, end):
    env.cr.execute(
        "SELECT count(*) FROM usage_event_data WHERE tenant_id = ANY(%s)"
        " AND occurred_at >= %s AND occurred_at < %s",
        [tenants.ids, start.replace(tzinfo=None), end.replace(tzinfo=None)],
    )
    return env.cr.fetchone()[0]


def run_sizes(env, args, start, end, batch):
    """Time each size (or the prepared events, ``--measure``); return the table rows."""
    metric_ids = [env.ref(f"usage_billing_connector.demo_metric_{c}").id for c in METRIC_CODES]
    if args.measure:
        tenants, subscriptions = prepared(env, args.measure)
        sizes = [None]
    else:
        t0 = time.perf_counter()
        _plan, tenants, subscriptions = setup_subscriptions(env, args.subscriptions, start)
        print(f"  {args.subscriptions:,} subscriptions set up in {time.perf_counter() - t0:.1f} s")
        sizes = [int(size) for size in args.events.split(",")]
    rows = []
    for events in sizes:
        profile = args.profile if events == sizes[-1] else None
        raw, billing, billed, statements = measure(
            env, events, subscriptions, tenants, metric_ids, start, end, batch, profile
        )
        if events is None:
            events = stored_count(env, tenants, start, end)
        assert statements == len(subscriptions), (statements, len(subscriptions))
        assert billed == events, (billed, events)
        rows.append((events, billed, raw, billing))
        print(f"  {events:>9,} events: billing {billing:7.2f} s, raw SQL {raw:6.3f} s", flush=True)
    return len(subscriptions), rows


def print_table(count, batch, rows):
    print(
        f"\nBilling run: {count:,} subscriptions × 3 metrics, "
        f"jobs of {batch} subscriptions one after the other, one process"
    )
    print(
        f"{'events':>10} {'billed':>10} {'raw SQL s':>10} {'billing s':>10} "
        f"{'events/s':>10} {'ms/sub':>8} {'vs raw':>8}"
    )
    for events, billed, raw, billing in rows:
        print(
            f"{events:>10,} {billed:>10,} {raw:>10.3f} {billing:>10.2f} "
            f"{events / billing:>10,.0f} {1000 * billing / count:>8.2f} "
            f"{billing / raw:>7.1f}x"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"growth: {last[0] / first[0]:.0f}x the events took {last[3] / first[3]:.2f}x "
            f"the billing time and {last[2] / first[2]:.2f}x the raw SQL time"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_billing")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--events", default="10000,100000,1000000")
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--profile")
    parser.add_argument("--prepare", metavar="TAG", help="commit TAG's setup, time nothing")
    parser.add_argument("--measure", metavar="TAG", help="time billing TAG's prepared setup")
    parser.add_argument("--drop", metavar="TAG", help="delete TAG's prepared events")
    parser.add_argument("--setup-batch", type=int, default=5000, help="subscriptions per create")
    args = parser.parse_args()
    # Prepared setups live in a database that stays.
    args.reuse_db = args.reuse_db or bool(args.measure or args.drop)
    args.keep_db = args.keep_db or bool(args.prepare)

    tmp = tempfile.mkdtemp(prefix="bench-billing-")
    config = run_tests.write_odoo_config(tmp, args.db)
    if not args.reuse_db:
        create_database(args.db, config)

    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config as odoo_config  # noqa: PLC0415

    odoo_config.parse_config(["-c", str(config)])
    registry = Registry(args.db)
    start, end = last_month()
    with registry.cursor() as cr:
        from odoo.addons.usage_billing_connector.utils import event_store  # noqa: PLC0415
        from odoo.addons.usage_billing_connector.utils.params import (  # noqa: PLC0415
            get_int_param,
        )

        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        batch = args.batch or get_int_param(env, "billing_batch_size")
        event_store.ensure_partitions(cr, start.date(), start.date())
        if args.prepare:
            prepare(env, args, start, end)
        elif args.drop:
            drop(env, args.drop, start, end)
        else:
            count, rows = run_sizes(env, args, start, end, batch)
            cr.rollback()
            print_table(count, batch, rows)
    if not (args.keep_db or args.reuse_db):
        run_tests.drop_database(args.db)


if __name__ == "__main__":
    main()
