#!/usr/bin/env python3
"""Pre-fill (or drop) historical usage events for the ingestion benchmark.

Not a test and not a measurement: it writes ``--events`` accepted events of the
past ``--months`` months (never the current one, which the benchmark writes to)
into a database with both addons and their demo data, the way ingestion stores
them: a key row in ``usage_event_key`` (its payload hash a SHA-256 in hex), the
event in its monthly partition of ``usage_event_data`` (created like
``utils/event_store.py`` does, so every index of the store is maintained), and
the daily rollups of the accepted events (``DELTA_CTES`` of
``utils/usage_rollup.py``, the very CTEs of the ingestion statement, run once
per month), merged as the hourly cron merges them.  Events are spread over
every active tenant and the three demo metrics of the demo key's company, in
time order within their month, 1,000 per request id, received a few seconds
after they occurred; event ids are 34 characters, ordered like time-ordered
ids (UUIDv7, ULID).

Rows are generated in PostgreSQL (``generate_series``), ``--chunk`` events per
transaction, then ``VACUUM ANALYZE``.  Re-running adds more: ``--events`` is
what to *add*; the ids continue from the history already there.
``--drop`` removes every history event, its key and the history's months'
rollups (the partitions stay, empty).  ``--restore-mode`` loads as
``pg_restore`` does, without the events' foreign-key checks (same rows, same
indexes; needs a superuser), for the tens of millions of the 50M run.

    python3 tools/bench_ingest_history.py --db bench_ingest --events 10000000
    python3 tools/bench_ingest_history.py --db bench_ingest --drop
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import addon_packages
from bench_ingest_events import METRICS
from pg_env import pg_dsn

addon_packages.register()
from usage_billing_connector.utils.usage_rollup import COMPACT_SQL, DELTA_CTES  # noqa: E402

#: Marks the history's requests (``request_id``), so it can be told from live rows.
REQUEST_PREFIX = "history-"

# One chunk, in two statements of one transaction: the keys, then the events (the
# same rows: ids and values are functions of the serial number n).  Event ids are
# 34 characters, ordered by n (clients often send time-ordered ids; the benchmark's
# own ids are another range of the same index).  Events occur in n order within
# their month, as live traffic arrives.
EVENTS_CTE = """
WITH e AS (
    SELECT n, 'h-' || lpad(n::text, 32, '0') AS event_id,
           (%(tenant_ids)s::int[])[1 + n %% %(tenants)s] AS tenant_id,
           (%(tenant_refs)s::varchar[])[1 + n %% %(tenants)s] AS tenant_ref,
           (%(metric_ids)s::int[])[1 + n %% 3] AS metric_id,
           (%(metric_codes)s::varchar[])[1 + n %% 3] AS metric_code,
           CASE n %% 3
                WHEN 0 THEN (1 + (n * 31) %% 1000)::numeric
                WHEN 1 THEN round((n * 37) %% 100000 / 100.0, 2)
                ELSE 1::numeric END AS quantity,
           CASE n %% 3
                WHEN 0 THEN '{"endpoint": "/v1/items"}'::jsonb
                WHEN 1 THEN '{}'::jsonb
                ELSE jsonb_build_object('user_id', 'u' || (1 + (n * 13) %% 500)) END
               AS properties,
           %(month)s::timestamp + (n - %(month_first)s) * %(step)s * interval '1 microsecond'
               AS occurred_at
      FROM generate_series(%(first)s::bigint, %(last)s::bigint) n
)
"""

CHUNK_KEYS_SQL = (
    EVENTS_CTE
    + """
INSERT INTO usage_event_key (company_id, event_id, payload_hash)
SELECT %(company_id)s, e.event_id,
       encode(sha256(convert_to(e.event_id || e.tenant_ref || e.metric_code
                                || e.quantity::text || e.occurred_at::text, 'UTF8')), 'hex')
  FROM e
"""
)

CHUNK_EVENTS_SQL = (
    EVENTS_CTE
    + f"""
INSERT INTO usage_event_data (
    event_id, company_id, api_key_id, request_id, tenant_id, tenant_ref, metric_id,
    metric_code, quantity, occurred_at, properties, state, quarantine_reason, accepted_xid,
    accepted_seq, received_at, create_uid, create_date, write_uid, write_date)
SELECT e.event_id, %(company_id)s, %(api_key_id)s,
       '{REQUEST_PREFIX}' || lpad((e.n / 1000)::text, 28, '0'), e.tenant_id, e.tenant_ref,
       e.metric_id, e.metric_code, e.quantity, e.occurred_at, e.properties, 'accepted', NULL,
       pg_current_xact_id(), nextval('usage_event_accepted_seq'),
       e.occurred_at + interval '3 seconds', 1, e.occurred_at + interval '3 seconds', 1,
       e.occurred_at + interval '3 seconds'
  FROM e
"""
)

# The daily rollups of the events this run added to a month (serial numbers
# first..last), in their merged form: the ingestion statement's CTEs over the
# month instead of over one batch.
MONTH_ROLLUPS_SQL = """
WITH src AS (
    SELECT id, tenant_id, metric_id, occurred_at, quantity, properties, state
      FROM usage_event_data
     WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
       AND event_id BETWEEN 'h-' || lpad(%(first)s::text, 32, '0')
                        AND 'h-' || lpad(%(last)s::text, 32, '0')
), {DELTA_CTES}
SELECT 1
""".replace("{DELTA_CTES}", DELTA_CTES)


# The rollups of the events left in the history's months (as ``usage_rollup.BACKFILL_SQL``).
REBUILD_SQL = f"""
WITH src AS (
    SELECT id, tenant_id, metric_id, occurred_at, quantity, properties, state
      FROM usage_event_data
     WHERE state = 'accepted' AND occurred_at >= %(start)s AND occurred_at < %(end)s
), {DELTA_CTES}
SELECT 1
"""


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition(cr, month):
    """The month's partition, created as ``event_store.ensure_partitions`` creates it:
    rows of that month in the default partition (the demo's past usage) move into it."""
    name = f"usage_event_data_{month:%Y_%m}"
    cr.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if not cr.fetchone()[0]:
        bounds = {"start": month, "end": add_months(month, 1)}
        cr.execute(
            f"""
            CREATE TABLE "{name}" (LIKE usage_event_data INCLUDING DEFAULTS
                                   INCLUDING CONSTRAINTS);
            WITH moved AS (
                DELETE FROM usage_event_data_default
                 WHERE occurred_at >= %(start)s AND occurred_at < %(end)s RETURNING *)
            INSERT INTO "{name}" SELECT * FROM moved;
            ALTER TABLE usage_event_data ATTACH PARTITION "{name}"
                FOR VALUES FROM (%(start)s) TO (%(end)s);
            """,
            bounds,
        )
    return name


def context(cr, key_id):
    cr.execute("SELECT id, company_id FROM usage_api_key WHERE key_id = %s AND active", [key_id])
    row = cr.fetchone()
    if not row:
        raise SystemExit(f"no active API key {key_id!r}")
    key, company_id = row
    cr.execute(
        "SELECT id, external_id FROM usage_tenant WHERE company_id = %s AND state = 'active'"
        " ORDER BY id",
        [company_id],
    )
    tenants = cr.fetchall()
    cr.execute(
        "SELECT code, id FROM usage_metric WHERE company_id = %s AND active AND code = ANY(%s)",
        [company_id, list(METRICS)],
    )
    metrics = dict(cr.fetchall())
    if len(metrics) != len(METRICS) or not tenants:
        raise SystemExit("demo tenants/metrics missing (install with --with-demo)")
    return {
        "company_id": company_id,
        "api_key_id": key,
        "tenant_ids": [t[0] for t in tenants],
        "tenant_refs": [t[1] for t in tenants],
        "tenants": len(tenants),
        "metric_ids": [metrics[code] for code in METRICS],
        "metric_codes": list(METRICS),
    }


def stored(cr):
    """History events already stored: the next serial number to use."""
    # A range rather than LIKE: the request_id index serves it in any collation.
    cr.execute(
        "SELECT count(*) FROM usage_event_data WHERE request_id >= %s AND request_id < %s",
        [REQUEST_PREFIX, REQUEST_PREFIX[:-1] + "."],
    )
    return cr.fetchone()[0]


def fill(conn, args):
    cr = conn.cursor()
    if args.restore_mode:
        # As pg_restore loads data: the six foreign-key triggers of each event row
        # are skipped for this session only.  Every reference is read from the live
        # rows above (key, company, tenants, metrics, user 1), so nothing is left
        # dangling; the indexes, which ingestion maintains, are all kept.
        cr.execute("SET session_replication_role = replica")
    params = context(cr, args.key)
    done = stored(cr) if args.start is None else args.start
    this_month = date.today().replace(day=1)
    months = [add_months(this_month, -k) for k in range(args.months, 0, -1)]
    for month in months:
        partition(cr, month)
    conn.commit()
    print(
        f"{done:,} history events stored; adding {args.events:,} over {months[0]:%Y-%m}"
        f" .. {months[-1]:%Y-%m}",
        flush=True,
    )
    per_month = -(-args.events // len(months))
    started, added = time.perf_counter(), 0
    for month in months:
        seconds = int((add_months(month, 1) - month).total_seconds())
        count = min(per_month, args.events - added)
        # Spread evenly over the month, after what earlier runs put there.
        month_params = {
            **params,
            "month": month,
            "month_first": done,
            "step": seconds * 1_000_000 // max(count, 1),
        }
        month_start, month_first = time.perf_counter(), done
        left = count
        while left > 0:
            size = min(args.chunk, left)
            chunk = {**month_params, "first": done, "last": done + size - 1}
            cr.execute(CHUNK_KEYS_SQL, chunk)
            cr.execute(CHUNK_EVENTS_SQL, chunk)
            if cr.rowcount != size:
                raise SystemExit(f"{month}: inserted {cr.rowcount} of {size}")
            conn.commit()
            done, added, left = done + size, added + size, left - size
            rate = added / (time.perf_counter() - started)
            print(f"  {month:%Y-%m}: {added:,} added ({rate:,.0f}/s)", flush=True)
        if count > 0 and not args.no_rollups:
            # The rollups the ingestion statements would have appended, merged.
            cr.execute(
                MONTH_ROLLUPS_SQL,
                {
                    "start": month,
                    "end": add_months(month, 1),
                    "first": month_first,
                    "last": done - 1,
                },
            )
            conn.commit()
            print(f"  {month:%Y-%m}: rollups ({time.perf_counter() - month_start:.0f} s)")
    print("merging the rollups (the hourly cron's work)...", flush=True)
    cr.execute(COMPACT_SQL, {"before": this_month})
    conn.commit()
    vacuum(conn)
    print(f"done: {done:,} history events stored, {time.perf_counter() - started:.0f} s")


def vacuum(conn):
    conn.autocommit = True
    with conn.cursor() as cr:
        for table in (
            "usage_event_data",
            "usage_event_key",
            "usage_rollup",
            "usage_rollup_distinct",
        ):
            print(f"VACUUM ANALYZE {table}...", flush=True)
            cr.execute(f"VACUUM ANALYZE {table}")
    conn.autocommit = False


def drop(conn, args):
    cr = conn.cursor()
    this_month = date.today().replace(day=1)
    first = add_months(this_month, -args.months)
    # Per month: the keys first (found through the events), then the events.
    for k in range(args.months, 0, -1):
        month = add_months(this_month, -k)
        cr.execute(
            """
            WITH gone AS (
                DELETE FROM usage_event_data
                 WHERE occurred_at >= %s AND occurred_at < %s AND request_id LIKE %s
                RETURNING company_id, event_id)
            DELETE FROM usage_event_key k USING gone
             WHERE k.company_id = gone.company_id AND k.event_id = gone.event_id
            """,
            [month, add_months(month, 1), REQUEST_PREFIX + "%"],
        )
        print(f"  {month:%Y-%m}: {cr.rowcount:,} events and keys deleted", flush=True)
        conn.commit()
    # The history's rollups were merged with those of the other events of its months
    # (the demo's): those months' rollups are written again from the events left.
    cr.execute("DELETE FROM usage_rollup WHERE day >= %s AND day < %s", [first, this_month])
    cr.execute(
        "DELETE FROM usage_rollup_distinct WHERE month >= %s AND month < %s", [first, this_month]
    )
    cr.execute(REBUILD_SQL, {"start": first, "end": this_month})
    cr.execute(COMPACT_SQL, {"before": this_month})
    conn.commit()
    vacuum(conn)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--events", type=int, default=10_000_000, help="events to add")
    parser.add_argument("--months", type=int, default=12, help="past months to spread over")
    parser.add_argument("--chunk", type=int, default=500_000, help="events per transaction")
    parser.add_argument("--key", default="demo-key", help="the API key (its company)")
    parser.add_argument("--start", type=int, help="first serial number (default: count)")
    parser.add_argument("--drop", action="store_true", help="delete the history instead")
    parser.add_argument(
        "--no-rollups",
        action="store_true",
        help="skip the history's rollups (faster; ingestion never reads them, the read API does)",
    )
    parser.add_argument(
        "--restore-mode",
        action="store_true",
        help="skip the events' foreign-key checks as a restore does (superuser; same rows"
        " and indexes; 1M events took 49 s instead of 79 s here)",
    )
    args = parser.parse_args(argv)
    conn = psycopg2.connect(pg_dsn(args.db))
    try:
        drop(conn, args) if args.drop else fill(conn, args)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
