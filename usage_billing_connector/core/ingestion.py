"""Ingestion of one batch as a plan and an outcome, around one SQL insert.

``plan_batch`` turns parsed events into the rows to insert.  The Odoo shell
inserts them with ``INSERT ... ON CONFLICT DO NOTHING RETURNING event_id`` and
reads back the hashes of the ids that already existed; ``finish_batch`` then
answers, per event and in request order, accepted / duplicate / quarantined /
rejected.  The database decides uniqueness; this module only explains it.
"""

from dataclasses import dataclass, field

from .payload import Rejection, Repeat, UsageEvent
from .quarantine import REASONS, classify

# Per-event status -> the response's count field.
COUNT_FIELDS = {
    "accepted": "accepted",
    "duplicate": "duplicates",
    "quarantined": "quarantined",
    "rejected": "rejected",
}
IDEMPOTENCY_CONFLICT = (
    "idempotency_conflict",
    "This event_id was already received with a different payload.",
)
DUPLICATE = ("duplicate", "This event was already received; it is counted once.")


@dataclass(frozen=True)
class Row:
    """One usage event row to insert."""

    event: UsageEvent
    payload_hash: str
    state: str
    reason: str | None
    tenant_id: int | None
    metric_id: int | None


@dataclass
class BatchPlan:
    items: list  # aligned with the request: Row, Rejection or Repeat
    rows: list = field(default_factory=list)

    @property
    def event_ids(self):
        return [row.event.event_id for row in self.rows]


def plan_batch(parsed, context):
    items, rows = [], []
    for item in parsed:
        if isinstance(item, UsageEvent):
            verdict = classify(item.tenant, item.metric, item.occurred_at, context)
            item = Row(
                item,
                item.payload_hash,
                verdict.state,
                verdict.reason,
                verdict.tenant_id,
                verdict.metric_id,
            )
            rows.append(item)
        items.append(item)
    return BatchPlan(items, rows)


def result(event_id, status, error=None):
    """One entry of the response's ``results``; ``error`` is a (code, message) pair."""
    result = {"event_id": event_id, "status": status}
    if error:
        result["error"] = {"code": error[0], "message": error[1]}
    return result


def _rowresult(row, inserted, existing_hashes):
    event_id = row.event.event_id
    if event_id not in inserted:
        if existing_hashes.get(event_id) == row.payload_hash:
            return result(event_id, "duplicate", DUPLICATE)
        return result(event_id, "rejected", IDEMPOTENCY_CONFLICT)
    if row.state == "quarantined":
        return result(event_id, "quarantined", (row.reason, REASONS[row.reason]))
    return result(event_id, "accepted")


def _repeatresult(repeat, plan):
    first = plan.items[repeat.first_index]
    if repeat.event.payload_hash == first.payload_hash:
        return result(repeat.event.event_id, "duplicate", DUPLICATE)
    return result(repeat.event.event_id, "rejected", IDEMPOTENCY_CONFLICT)


def finish_batch(plan, inserted, existing_hashes):
    """Results in request order and the counts (keyed like the response fields).

    ``inserted``: event ids this request inserted; ``existing_hashes``: event id
    -> payload hash of ids that were stored before this request.
    """
    results = []
    for item in plan.items:
        if isinstance(item, Rejection):
            results.append(result(item.event_id, "rejected", (item.code, item.message)))
        elif isinstance(item, Repeat):
            results.append(_repeatresult(item, plan))
        else:
            results.append(_rowresult(item, inserted, existing_hashes))
    return results, count(results)


def count(results):
    """The response's counts (accepted, duplicates, quarantined, rejected)."""
    counts = dict.fromkeys(COUNT_FIELDS.values(), 0)
    for entry in results:
        counts[COUNT_FIELDS[entry["status"]]] += 1
    return counts
