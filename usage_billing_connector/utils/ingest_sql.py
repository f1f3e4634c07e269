"""The ingestion statement, plain text (no Odoo import: the benchmarks run it as is)."""

from .usage_rollup import DELTA_CTES

# One statement per batch: the keys first (their primary key decides what is new,
# see utils/event_store.py), then only the events whose key was inserted, and the
# daily rollups of the accepted ones (utils/usage_rollup.py).
INSERT_EVENTS_SQL = f"""
WITH e AS (
    SELECT * FROM unnest(
        %(event_ids)s::varchar[], %(tenant_ids)s::int[], %(tenant_refs)s::varchar[],
        %(metric_ids)s::int[], %(metric_codes)s::varchar[], %(quantities)s::numeric[],
        %(occurred_ats)s::timestamp[], %(properties)s::jsonb[], %(states)s::varchar[],
        %(reasons)s::varchar[], %(hashes)s::varchar[])
      AS e(event_id, tenant_id, tenant_ref, metric_id, metric_code, quantity, occurred_at,
           properties, state, reason, payload_hash)
), keys AS (
    INSERT INTO usage_event_key (company_id, event_id, payload_hash)
    SELECT %(company_id)s, e.event_id, e.payload_hash FROM e
    ON CONFLICT (company_id, event_id) DO NOTHING
    RETURNING event_id
), src AS (
INSERT INTO usage_event_data (
    event_id, company_id, api_key_id, request_id, tenant_id, tenant_ref, metric_id,
    metric_code, quantity, occurred_at, properties, state, quarantine_reason, accepted_xid,
    accepted_seq, received_at, create_uid, create_date, write_uid, write_date)
SELECT e.event_id, %(company_id)s, %(api_key_id)s, %(request_id)s, e.tenant_id, e.tenant_ref,
       e.metric_id, e.metric_code, e.quantity, e.occurred_at, e.properties, e.state, e.reason,
       CASE WHEN e.state = 'accepted' THEN pg_current_xact_id() END,
       CASE WHEN e.state = 'accepted' THEN (SELECT nextval('usage_event_accepted_seq')) END,
       %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
  FROM e JOIN keys USING (event_id)
RETURNING id, event_id, tenant_id, metric_id, occurred_at, quantity, properties, state
), {DELTA_CTES}
SELECT event_id FROM src
"""
