from datetime import timedelta

import ingestion_helpers
from ingestion_helpers import NOW, raw

from usage_billing_connector.core import payload


def run(raws, inserted=None, existing=None, **ctx):
    plan, results, counts = ingestion_helpers.run(
        raws, inserted, existing, **{"old_state": "closed", **ctx}
    )
    return plan, (results, counts)


def test_each_event_gets_one_result_in_request_order():
    future = (NOW + timedelta(days=1, seconds=1)).isoformat()
    plan, (results, counts) = run(
        [
            raw("ok"),
            raw("bad", quantity=-1),
            raw("who", tenant="nobody"),
            raw("what", metric="nothing"),
            raw("closed", tenant="old"),
            raw("later", timestamp=future),
        ]
    )
    assert [r["event_id"] for r in results] == ["ok", "bad", "who", "what", "closed", "later"]
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "quarantined",
        "quarantined",
        "quarantined",
        "quarantined",
    ]
    assert [r.get("error", {}).get("code") for r in results[2:]] == [
        "unknown_tenant",
        "unknown_metric",
        "tenant_inactive",
        "future_timestamp",
    ]
    assert counts == {"accepted": 1, "duplicates": 0, "quarantined": 4, "rejected": 1}
    # Quarantined events are stored too: nothing is lost.
    assert plan.event_ids == ["ok", "who", "what", "closed", "later"]


def test_exactly_one_day_ahead_is_still_accepted():
    _plan, (results, _) = run([raw("edge", timestamp=(NOW + timedelta(days=1)).isoformat())])
    assert results[0]["status"] == "accepted"


def test_key_limited_to_other_tenants_quarantines():
    _plan, (results, _) = run([raw("scoped")], allowed_tenant_ids=frozenset({99}))
    assert results[0]["error"]["code"] == "tenant_not_allowed"


def test_rows_not_inserted_are_duplicates_or_conflicts_by_hash():
    first = payload.parse_event(raw("same")).payload_hash
    _plan, (results, counts) = run(
        [raw("same"), raw("changed")],
        inserted=set(),
        existing={"same": first, "changed": "another-hash"},
    )
    assert [r["status"] for r in results] == ["duplicate", "rejected"]
    assert results[1]["error"]["code"] == "idempotency_conflict"
    assert counts["duplicates"] == 1


def test_closed_period_hook_can_quarantine():
    _plan, (results, _) = run([raw("late")], is_closed=lambda tenant_id, when: "period_invoiced")
    assert results[0]["error"]["code"] == "period_invoiced"
