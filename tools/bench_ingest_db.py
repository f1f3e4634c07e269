"""The ingestion benchmark's database side, in SQL over psycopg2 (no Odoo).

The API key and its rate limit, the demo lookups, counting and deleting a
phase's rows, a checkpoint before a timed phase, the server's own durations.
"""

import psycopg2
from bench_ingest_events import METRICS, TENANTS


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


def _window(since):
    """SQL restricting to events that occurred from ``since`` (naive UTC) on, if given.

    With history stored (``bench_ingest_history.py``) this keeps counting and
    deleting to the current partitions instead of scanning every month: ``LIKE``
    on the event id cannot use an index unless the collation is C.
    """
    return (" AND occurred_at >= %s", [since]) if since else ("", [])


def count_rows(conn, company_id, prefix, state=None, since=None):
    window, params = _window(since)
    with conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM usage_event_data WHERE company_id = %s AND event_id LIKE %s"
            " AND (%s IS NULL OR state = %s)" + window,
            [company_id, prefix + "%", state, state, *params],
        )
        return cr.fetchone()[0]


def delete_rows(conn, company_id, prefix, since=None):
    """Delete a phase's events and their keys, then vacuum what held them.

    The keys go too: they are what makes an event id taken, and the table every
    ingestion checks; left behind, each phase would grow it.
    """
    window, params = _window(since)
    with conn.cursor() as cr:
        cr.execute(
            "WITH gone AS (DELETE FROM usage_event_data WHERE company_id = %s"
            " AND event_id LIKE %s" + window + " RETURNING tableoid, company_id, event_id),"
            " keys AS (DELETE FROM usage_event_key k USING gone"
            " WHERE k.company_id = gone.company_id AND k.event_id = gone.event_id RETURNING 1)"
            " SELECT (SELECT count(*) FROM keys),"
            " (SELECT array_agg(DISTINCT tableoid::regclass::text) FROM gone)",
            [company_id, prefix + "%", *params],
        )
        deleted, partitions = cr.fetchone()
        if deleted:
            # Only the partitions that held the rows (the view usage_event cannot be
            # vacuumed, the parent would be every month of the history) and the keys.
            cr.execute(f"VACUUM ANALYZE {', '.join(partitions)}, usage_event_key")
    return deleted


def stored_events(conn):
    """Events in the store (every partition), as last counted by VACUUM/ANALYZE."""
    with conn.cursor() as cr:
        cr.execute(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'usage_event_data'::regclass"
        )
        return cr.fetchone()[0]


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
