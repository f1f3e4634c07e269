#!/usr/bin/env python3
"""What Usage Billing → Overview costs to open on millions of events (not a test).

``python3 tools/bench_overview.py [--events 2000000] [--late 20000] [--reuse-db]``

Creates the database ``--db`` (``bench_overview``) with both addons and demo
data, times every overview figure on it as it is (demo size: the small
database), then fills it the way ``tools/bench_billing.py`` does (its helpers):

1. ``--tenants`` (1,000) subscriptions on the demo plan ``growth-monthly`` and
   ``--events`` accepted events of last month, committed, then last month
   closed into statements (the billing run's own code, job by job): every
   billed period is a period to recheck, as after a real run;
2. ``--late`` events of those periods accepted after the run (late usage, not
   seen by the statements' snapshots);
3. ``--due-tenants`` (100) more subscriptions whose last month is not billed
   yet (the run is due), with ``--due-events`` events.

Then it times each figure again (``--repeat`` times each: min, median, max in
ms; the cache is emptied before each read), beside the yardstick measured in
the same run on the same table: a bare ``count(*)`` of last month's events.
It checks that each drill-down figure equals the count of the list it opens.
With the reconciliation's kept quantities (``usage.reconciliation.quantity``)
it times the figures with none kept, as right after a billing run, then keeps
them the way their cron does (timed) and times the figures again.
``--reuse-db`` times a database filled by an earlier run (``--keep-db``), so
a change of code can be measured before and after on the same rows
(``-u usage_billing_connector`` on it first).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_billing
import run_tests

#: Figures by compute group: (label, field read, drill-down action or None).
FIGURES = (
    ("ingestion today", "ingest_request_count", "action_open_ingestion"),
    ("quarantine backlog", "quarantine_count", "action_open_quarantine"),
    ("quarantine by reason", "quarantine_reason_ids", None),
    ("statements to approve", "to_approve_count", "action_open_to_approve"),
    ("unbilled usage of closed periods", "unbilled_event_count", "action_open_unbilled"),
    ("reconciliation variance", "variance_line_count", "action_open_variance"),
    ("reconciled lines", "reconciled_line_count", "action_open_reconciliation"),
)
MIN_FREE_GB = 10  # about 1 GB a million events with their indexes, and room to spare


def timed(call, repeat):
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = call()
        samples.append(1000 * (time.perf_counter() - t0))
    return value, (min(samples), statistics.median(samples), max(samples))


def measure(env, repeat):
    """``[(label, value, list count, (min, median, max) ms)]`` and the yardstick."""
    overview = env["usage.billing.overview"].browse(env.company.id)
    rows = []
    for label, field, action in FIGURES:

        def read(field=field):
            env.invalidate_all()
            value = overview[field]
            return len(value) if hasattr(value, "_name") else value

        value, times = timed(read, repeat)
        listed = None
        if action:
            opened = getattr(overview, action)()
            listed = env[opened["res_model"]].search_count(opened["domain"])
        rows.append((label, value, listed, times))
    start, end = (moment.replace(tzinfo=None) for moment in bench_billing.last_month())

    def bare_count():
        env.cr.execute(
            "SELECT count(*) FROM usage_event_data WHERE occurred_at >= %s AND occurred_at < %s",
            [start, end],
        )
        return env.cr.fetchone()[0]

    return rows, timed(bare_count, repeat)


def fill(env, args):
    """Billed, late and due usage of last month (committed: ``--reuse-db`` finds it)."""
    from odoo.addons.usage_billing_connector.utils import event_store  # noqa: PLC0415

    cr = env.cr
    start, end = bench_billing.last_month()
    event_store.ensure_partitions(cr, start.date(), start.date())
    metric_ids = [
        env.ref(f"usage_billing_connector.demo_metric_{code}").id
        for code in ("api_calls", "storage_gb", "active_users")
    ]
    _plan, tenants, subscriptions = bench_billing.setup_subscriptions(env, args.tenants, start)
    t0 = time.perf_counter()
    bench_billing.insert_events(env, args.events, tenants, metric_ids, start, end)
    cr.commit()
    print(f"  {args.events:,} events inserted in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    bench_billing.bill(env, subscriptions, 50)
    cr.commit()
    print(f"  {len(subscriptions):,} periods billed in {time.perf_counter() - t0:.0f} s")
    # Accepted after the run (a later transaction): unseen by its snapshots.
    bench_billing.insert_events(env, args.late, tenants, metric_ids, start, end)
    cr.commit()
    if args.due_tenants:
        # setup_subscriptions names its tenants bench-<n>: the billed ones step aside.
        cr.execute(
            "UPDATE usage_tenant SET external_id = 'billed-' || external_id WHERE id = ANY(%s)",
            [tenants.ids],
        )
        env.invalidate_all()
        _plan, due, _subs = bench_billing.setup_subscriptions(env, args.due_tenants, start)
        bench_billing.insert_events(env, args.due_events, due, metric_ids, start, end)
    # What the hourly cron does (autovacuum, which would too, may be off).
    event_store.summarize_new_ranges(cr)
    cr.execute("ANALYZE")
    cr.commit()


def forget_kept(env):
    """As right after a billing run: no line's quantity kept yet (committed)."""
    if "usage.reconciliation.quantity" in env:
        env.cr.execute("TRUNCATE usage_reconciliation_quantity")
        env.cr.commit()


def keep(env):
    """What the keeping cron does (a batch per commit), timed."""
    keeper = env["usage.reconciliation.quantity"]
    t0, kept = time.perf_counter(), 0
    while count := keeper._keep_event_quantities():
        kept += count
        env.cr.commit()
    seconds = time.perf_counter() - t0
    env.cr.execute("SELECT count(*) FROM usage_event_change")
    changes = env.cr.fetchone()[0]
    return (
        f"\nkept the quantity of {kept:,} lines in {seconds:.1f} s"
        f" ({1000 * seconds / max(kept, 1):.2f} ms a line); changes still noted: {changes:,}"
    )


def describe(env):
    start = bench_billing.last_month()[0].replace(tzinfo=None)
    env.cr.execute(
        """
        SELECT (SELECT count(*) FROM usage_event_data),
               (SELECT count(*) FROM usage_period_recheck),
               (SELECT count(*) FROM usage_statement_line WHERE period_start >= %s)
        """,
        [start - timedelta(days=31)],
    )
    events, rechecks, lines = env.cr.fetchone()
    return f"{events:,} events, {rechecks:,} periods to recheck, {lines:,} recent statement lines"


def print_table(title, rows, yardstick):
    value, (low, median, high) = yardstick
    print(f"\n{title}")
    print(f"{'figure':<34} {'value':>10} {'list':>10} {'min ms':>8} {'median':>8} {'max':>8}")
    for label, figure, listed, (fmin, fmed, fmax) in rows:
        shown = "-" if listed is None else f"{listed:,}"
        print(f"{label:<34} {figure:>10,} {shown:>10} {fmin:>8.1f} {fmed:>8.1f} {fmax:>8.1f}")
    print(f"{'yardstick: count(*) last month':<34} {value:>10,} {'-':>10} {low:>8.1f} ", end="")
    print(f"{median:>8.1f} {high:>8.1f}")
    mismatched = [row[0] for row in rows if row[2] is not None and row[1] != row[2]]
    if mismatched:
        raise SystemExit(f"figure differs from its list: {', '.join(mismatched)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_overview")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--late", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--due-tenants", type=int, default=100)
    parser.add_argument("--due-events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--fill-only", action="store_true", help="create and fill, time nothing")
    args = parser.parse_args()
    if not args.db.startswith("bench_overview"):
        raise SystemExit("--db must start with bench_overview (the script drops it)")
    free_gb = shutil.disk_usage("/work" if Path("/work").exists() else "/").free / 1e9
    if not args.reuse_db and free_gb < MIN_FREE_GB:
        raise SystemExit(f"only {free_gb:.0f} GB free: {MIN_FREE_GB} GB needed")

    tmp = tempfile.mkdtemp(prefix="bench-overview-")
    config = run_tests.write_odoo_config(tmp, args.db)
    if not args.reuse_db:
        bench_billing.create_database(args.db, config)

    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config as odoo_config  # noqa: PLC0415

    odoo_config.parse_config(["-c", str(config)])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tz": "UTC"})
        forget_kept(env)
        if not args.reuse_db:
            if not args.fill_only:
                small = (describe(env), *measure(env, args.repeat))
            fill(env, args)
        if not args.fill_only:
            if not args.reuse_db:
                print_table(f"Overview, demo database ({small[0]})", small[1], small[2])
            rows, yardstick = measure(env, args.repeat)
            kept = "usage.reconciliation.quantity" in env
            title = "nothing kept yet, as right after a billing run" if kept else "filled"
            print_table(f"Overview, {title} ({describe(env)})", rows, yardstick)
            if kept:
                print(keep(env))
                rows, yardstick = measure(env, args.repeat)
                print_table("Overview, the lines' quantities kept", rows, yardstick)
        cr.rollback()
    if not (args.keep_db or args.reuse_db or args.fill_only):
        run_tests.drop_database(args.db)


if __name__ == "__main__":
    main()
