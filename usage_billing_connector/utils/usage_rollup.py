"""Daily rollups of accepted usage: what a tenant used so far, without reading its events.

The product asks "how much have I used this period?" on page loads; a tenant with
a million events in its period must get the answer in milliseconds.  Every
transaction that makes events billable appends, in the same statement or
transaction, one row per (tenant, metric, day) it touched to ``usage_rollup``
(count, sum, max, and the last quantity with its instant and id) and, for
``unique_count`` metrics, one row per (tenant, metric, month, value) it touched
to ``usage_rollup_distinct``, the days of the month the value was seen as bits
(``core/day_masks.py``).  Appending (never updating) keeps concurrent ingestion
free of row contention, and a reader sees a delta exactly when it sees its
events: rollups are exact and consistent.  An hourly cron merges the deltas of
each day (and of each month's value) so reads stay small: a month is about
thirty rows per metric, and a month of a thousand users a day a thousand
distinct-value rows, not thirty thousand.

Windows must start and end on whole days (UTC midnight); billing periods start
at midnight, so every period does.  Other windows are read from the events.
"""

from datetime import datetime
from decimal import Decimal

from ..core.day_masks import month_masks

DDL = """
CREATE TABLE IF NOT EXISTS usage_rollup (
    tenant_id int4 NOT NULL,
    metric_id int4 NOT NULL,
    day timestamp NOT NULL,
    events bigint NOT NULL,
    quantity_sum numeric NOT NULL,
    quantity_max numeric NOT NULL,
    last_at timestamp NOT NULL,
    last_id bigint NOT NULL,
    last_quantity numeric NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_rollup_window_idx ON usage_rollup (tenant_id, metric_id, day);
CREATE TABLE IF NOT EXISTS usage_rollup_distinct (
    tenant_id int4 NOT NULL,
    metric_id int4 NOT NULL,
    month date NOT NULL,
    value text NOT NULL,
    days int4 NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_rollup_distinct_window_idx
    ON usage_rollup_distinct (tenant_id, month);
"""

#: Appends the deltas of the accepted rows of a relation ``src`` (columns id,
#: tenant_id, metric_id, occurred_at, quantity, properties, state) — as CTEs of
#: the ingestion statement, or from events selected by id.
DELTA_CTES = """
rollup AS (
    INSERT INTO usage_rollup (tenant_id, metric_id, day, events, quantity_sum, quantity_max,
                              last_at, last_id, last_quantity)
    SELECT src.tenant_id, src.metric_id, date_trunc('day', src.occurred_at), count(*),
           sum(src.quantity), max(src.quantity),
           (array_agg(src.occurred_at ORDER BY src.occurred_at DESC, src.id DESC))[1],
           (array_agg(src.id ORDER BY src.occurred_at DESC, src.id DESC))[1],
           (array_agg(src.quantity ORDER BY src.occurred_at DESC, src.id DESC))[1]
      FROM src WHERE src.state = 'accepted' AND src.metric_id IS NOT NULL
     GROUP BY 1, 2, 3
), rollup_values AS (
    INSERT INTO usage_rollup_distinct (tenant_id, metric_id, month, value, days)
    SELECT src.tenant_id, src.metric_id, date_trunc('month', src.occurred_at)::date,
           src.properties ->> m.unique_property,
           bit_or(1 << (extract(day FROM src.occurred_at)::int - 1))
      FROM src JOIN usage_metric m ON m.id = src.metric_id AND m.aggregation = 'unique_count'
     WHERE src.state = 'accepted' AND src.properties ->> m.unique_property IS NOT NULL
     GROUP BY 1, 2, 3, 4
)"""

FROM_IDS_SQL = f"""
WITH src AS (
    SELECT id, tenant_id, metric_id, occurred_at, quantity, properties, state
      FROM usage_event_data WHERE id = ANY(%(ids)s)
), {DELTA_CTES}
SELECT 1
"""

BACKFILL_SQL = f"""
WITH src AS (
    SELECT id, tenant_id, metric_id, occurred_at, quantity, properties, state
      FROM usage_event_data WHERE state = 'accepted'
), {DELTA_CTES}
SELECT 1
"""

READ_SQL = """
SELECT r.metric_id, m.aggregation, sum(r.events)::text, sum(r.quantity_sum)::text,
       max(r.quantity_max)::text,
       ((array_agg(r.last_quantity ORDER BY r.last_at DESC, r.last_id DESC))[1])::text
  FROM usage_rollup r JOIN usage_metric m ON m.id = r.metric_id
 WHERE r.tenant_id = %(tenant_id)s AND r.day >= %(start)s AND r.day < %(end)s
 GROUP BY r.metric_id, m.aggregation
"""

# A value counts when it was seen on a day of the window in one of its months.
# DISTINCT in a subquery hashes where count(DISTINCT) sorts (tools/bench_read_api.py).
READ_VALUES_SQL = """
SELECT metric_id, count(*)
  FROM (SELECT DISTINCT v.metric_id, v.value
          FROM unnest(%(months)s::date[], %(masks)s::int4[]) AS w(month, mask)
          JOIN usage_rollup_distinct v
            ON v.tenant_id = %(tenant_id)s AND v.month = w.month AND v.days & w.mask <> 0) d
 GROUP BY metric_id
"""

# Only the keys with more than one row are rewritten: a merged history is read,
# not rewritten, every hour.  Rows a concurrent ingestion appends meanwhile are not
# in this statement's snapshot: they stay, and the next run merges them.
COMPACT_SQL = """
WITH split AS (
    SELECT tenant_id, metric_id, day FROM usage_rollup WHERE day < %(before)s
     GROUP BY tenant_id, metric_id, day HAVING count(*) > 1
), merged AS (
    DELETE FROM usage_rollup r USING split s
     WHERE r.tenant_id = s.tenant_id AND r.metric_id = s.metric_id AND r.day = s.day
    RETURNING r.*
)
INSERT INTO usage_rollup
SELECT tenant_id, metric_id, day, sum(events), sum(quantity_sum), max(quantity_max),
       (array_agg(last_at ORDER BY last_at DESC, last_id DESC))[1],
       (array_agg(last_id ORDER BY last_at DESC, last_id DESC))[1],
       (array_agg(last_quantity ORDER BY last_at DESC, last_id DESC))[1]
  FROM merged GROUP BY tenant_id, metric_id, day;
WITH split AS (
    SELECT tenant_id, metric_id, month, value FROM usage_rollup_distinct
     GROUP BY tenant_id, metric_id, month, value HAVING count(*) > 1
), merged AS (
    DELETE FROM usage_rollup_distinct v USING split s
     WHERE v.tenant_id = s.tenant_id AND v.metric_id = s.metric_id
       AND v.month = s.month AND v.value = s.value
    RETURNING v.*
)
INSERT INTO usage_rollup_distinct
SELECT tenant_id, metric_id, month, value, bit_or(days)
  FROM merged GROUP BY tenant_id, metric_id, month, value;
"""


def add_events(cr, event_ids):
    """Deltas for events made billable outside the ingestion statement (by id)."""
    if event_ids:
        cr.execute(FROM_IDS_SQL, {"ids": list(event_ids)})


def backfill(cr):
    """Rollups of every accepted event (an upgrade; ingestion keeps them from then on)."""
    cr.execute("TRUNCATE usage_rollup, usage_rollup_distinct")
    cr.execute(BACKFILL_SQL)


def hours_into_days(cr):
    """Turn the hourly rollups of 19.0.1.2.0 into daily ones (an upgrade, before the
    registry loads): the column becomes ``day`` and each row moves to its day; the
    next merge folds each day's rows into one.  Sums and the latest quantity read
    the same from any number of rows."""
    cr.execute(
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'usage_rollup' AND column_name = 'hour'"
    )
    if not cr.fetchone():
        return
    cr.execute("ALTER TABLE usage_rollup RENAME COLUMN hour TO day")
    cr.execute(
        "UPDATE usage_rollup SET day = date_trunc('day', day) WHERE day <> date_trunc('day', day)"
    )


def fold_daily_values(cr):
    """Fold the per-day distinct values of 19.0.1.2.0 (``usage_rollup_value``) into
    ``usage_rollup_distinct``, exactly, and drop them (an upgrade)."""
    cr.execute("SELECT to_regclass('usage_rollup_value') IS NOT NULL")
    if not cr.fetchone()[0]:
        return
    cr.execute(DDL)
    cr.execute(
        """
        INSERT INTO usage_rollup_distinct (tenant_id, metric_id, month, value, days)
        SELECT tenant_id, metric_id, date_trunc('month', day)::date, value,
               bit_or(1 << (extract(day FROM day)::int - 1))
          FROM usage_rollup_value
         GROUP BY tenant_id, metric_id, date_trunc('month', day)::date, value
        """
    )
    cr.execute("DROP TABLE usage_rollup_value")


def aligned(start, end):
    """Whether ``[start, end)`` (naive UTC) can be read from the rollups: whole days."""

    def whole(moment):
        return moment == datetime.combine(moment.date(), datetime.min.time())

    return whole(start) and whole(end)


def read(cr, tenant_id, start, end):
    """``{metric_id: Decimal}`` of a tenant over ``[start, end)`` (naive UTC, whole days)."""
    if not aligned(start, end):
        raise ValueError(f"rollups cover whole days, not {start} - {end}")
    params = {"tenant_id": tenant_id, "start": start, "end": end}
    cr.execute(READ_SQL, params)
    usage = {}
    for metric_id, aggregation, events, total, maximum, last in cr.fetchall():
        usage[metric_id] = Decimal(
            {"sum": total, "count": events, "max": maximum, "last": last}.get(aggregation, "0")
        )
    windows = month_masks(start.date(), end.date())
    cr.execute(
        READ_VALUES_SQL,
        {
            "tenant_id": tenant_id,
            "months": [month for month, _mask in windows],
            "masks": [mask for _month, mask in windows],
        },
    )
    for metric_id, distinct in cr.fetchall():
        usage[metric_id] = Decimal(distinct)
    return usage


def compact(cr, before):
    """Merge the deltas of every day that started before ``before`` (and of every
    month's value) into one row each."""
    cr.execute(COMPACT_SQL, {"before": before})
