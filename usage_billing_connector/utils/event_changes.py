"""Changes to stored usage events, noted so that what was computed from them is known stale.

Ingestion only inserts, and an inserted event is made billable by its own
transaction, which no earlier snapshot saw (``utils/event_store.py``): an
insert never changes what an earlier computation read.  What can are an
``UPDATE`` (a release from quarantine, a correction, tampering), a ``DELETE``
(compaction, an administrator), a ``TRUNCATE``, or a metric's aggregation
changing.  Triggers note each such statement in ``usage_event_change``: per
(tenant, metric) it touched, the range of ``occurred_at`` it touched, stamped
like an accepted event with its transaction and a value of
``usage_event_accepted_seq``.  A computation stamped with a billing snapshot
(``core/snapshots.py``) saw a change exactly when ``usage_event_seen(xid, seq,
snapshot)`` says so; a change it did not see makes it stale, whatever the
isolation level or the order in which the two transactions commit.

The triggers are per statement (one row per tenant and metric, whatever the
number of events) and only accepted events count: quarantined and rejected
ones are in no aggregate.  A statement names one table, and PostgreSQL fires
only that table's statement triggers: the partitioned table and each of its
partitions carry them (``watch``).
"""

from odoo.tools import SQL

DDL = """
CREATE TABLE IF NOT EXISTS usage_event_change (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int4,  -- NULL: every tenant
    metric_id int4,  -- NULL: every metric
    first_at timestamp NOT NULL,
    last_at timestamp NOT NULL,
    xid xid8 NOT NULL,
    seq bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_event_change_metric_idx
    ON usage_event_change (metric_id, tenant_id);
CREATE OR REPLACE FUNCTION usage_event_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO usage_event_change (first_at, last_at, xid, seq)
        VALUES ('-infinity', 'infinity', pg_current_xact_id(),
                nextval('usage_event_accepted_seq'));
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO usage_event_change (tenant_id, metric_id, first_at, last_at, xid, seq)
        SELECT tenant_id, metric_id, min(occurred_at), max(occurred_at), pg_current_xact_id(),
               nextval('usage_event_accepted_seq')
          FROM old_rows
         WHERE state = 'accepted' AND tenant_id IS NOT NULL AND metric_id IS NOT NULL
         GROUP BY tenant_id, metric_id;
    ELSE
        -- Both sides: an event may move to another tenant, metric or period.
        INSERT INTO usage_event_change (tenant_id, metric_id, first_at, last_at, xid, seq)
        SELECT tenant_id, metric_id, min(occurred_at), max(occurred_at), pg_current_xact_id(),
               nextval('usage_event_accepted_seq')
          FROM (SELECT tenant_id, metric_id, occurred_at, state FROM old_rows
                UNION ALL
                SELECT tenant_id, metric_id, occurred_at, state FROM new_rows) changed
         WHERE state = 'accepted' AND tenant_id IS NOT NULL AND metric_id IS NOT NULL
         GROUP BY tenant_id, metric_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION usage_metric_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_event_change (metric_id, first_at, last_at, xid, seq)
    VALUES (NEW.id, '-infinity', 'infinity', pg_current_xact_id(),
            nextval('usage_event_accepted_seq'));
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER usage_metric_aggregation_changed
    AFTER UPDATE OF aggregation, unique_property ON usage_metric FOR EACH ROW
    WHEN (OLD.aggregation IS DISTINCT FROM NEW.aggregation
          OR OLD.unique_property IS DISTINCT FROM NEW.unique_property)
    EXECUTE FUNCTION usage_metric_note_change();
"""

WATCH_SQL = """
CREATE OR REPLACE TRIGGER usage_event_update_noted AFTER UPDATE ON %(table)s
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_event_note_change();
CREATE OR REPLACE TRIGGER usage_event_delete_noted AFTER DELETE ON %(table)s
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_event_note_change();
CREATE OR REPLACE TRIGGER usage_event_truncate_noted AFTER TRUNCATE ON %(table)s
    FOR EACH STATEMENT EXECUTE FUNCTION usage_event_note_change();
"""

#: Whether the change ``x`` touched the events a computation ``k`` (tenant_id,
#: metric_id, period_start, period_end, snapshot) read, and it did not see it.
UNSEEN_CHANGE_SQL = """
    (x.tenant_id IS NULL OR x.tenant_id = k.tenant_id)
    AND (x.metric_id IS NULL OR x.metric_id = k.metric_id)
    AND x.first_at < k.period_end AND x.last_at >= k.period_start
    AND NOT usage_event_seen(x.xid, x.seq, k.snapshot)"""


def ensure_schema(cr):
    """The change log and the metric trigger (idempotent); tables are watched apart."""
    cr.execute(DDL)


def watch(cr, table):
    """Note the changes of statements naming ``table`` (the event table or a partition)."""
    cr.execute(SQL(WATCH_SQL, table=SQL.identifier(table)))
