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
