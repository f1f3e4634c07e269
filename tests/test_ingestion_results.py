"""Each event's result in an ingestion answer, as the integrator reads it, and what is stored.

``test_ingestion`` checks statuses and codes; these tests pin every result object
(``event_id``, ``status``, ``error.code`` and ``error.message``), the rows planned for
the insert (state, reason, tenant and metric ids) and a repeated ``event_id`` inside one
batch.
"""

from datetime import datetime, timedelta, timezone

import pytest
from ingestion_helpers import raw, run

from usage_billing_connector.core import payload, quarantine, rate_limit

DUPLICATE = "This event was already received; it is counted once."
DUP = {"code": "duplicate", "message": DUPLICATE}
CONFLICT = "This event_id was already received with a different payload."


@pytest.mark.parametrize(
    ("overrides", "ctx", "code"),
    [
        ({"tenant": "nobody"}, {}, "unknown_tenant"),
        ({"metric": "nothing"}, {}, "unknown_metric"),
        ({}, {"allowed_tenant_ids": frozenset({9})}, "tenant_not_allowed"),
        ({"tenant": "old"}, {}, "tenant_inactive"),
        ({"timestamp": "2026-01-21T00:00:01Z"}, {}, "future_timestamp"),
        ({}, {"is_closed": lambda tenant_id, when: "no_subscription"}, "no_subscription"),
        ({}, {"is_closed": lambda tenant_id, when: "period_compacted"}, "period_compacted"),
    ],
)
def test_a_quarantined_event_says_why_in_the_documented_words(overrides, ctx, code):
    _plan, (result,), counts = run([raw("e1", **overrides)], **ctx)
    assert result == {
        "event_id": "e1",
        "status": "quarantined",
        "error": {"code": code, "message": quarantine.REASONS[code]},
    }
    assert counts == {"accepted": 0, "duplicates": 0, "quarantined": 1, "rejected": 0}


def test_the_reasons_are_those_the_ui_explains():
    assert quarantine.REASONS == {
        "unknown_tenant": "No tenant with this external id in the key's company.",
        "unknown_metric": "No metric with this code in the key's company.",
        "tenant_not_allowed": "This API key may not send usage for this tenant.",
        "tenant_inactive": "The tenant is suspended or closed.",
        "future_timestamp": "The timestamp is more than one day in the future.",
        "period_invoiced": "The usage falls in a period that is already invoiced.",
        "no_subscription": "The tenant has no subscription in force at that time.",
        "period_compacted": "The usage falls in a period whose raw events were compacted.",
    }


def test_planned_rows_carry_the_verdict_and_the_ids_found():
    plan, _results, _counts = run(
        [
            raw("ok"),
            raw("who", tenant="nobody"),
            raw("what", metric="nothing"),
            raw("o", tenant="old"),
        ]
    )
    rows = {row.event.event_id: row for row in plan.rows}
    assert [(r.state, r.reason, r.tenant_id, r.metric_id) for r in rows.values()] == [
        ("accepted", None, 1, 10),
        ("quarantined", "unknown_tenant", None, 10),
        ("quarantined", "unknown_metric", 1, None),
        ("quarantined", "tenant_inactive", 2, 10),
    ]
    assert rows["ok"].payload_hash == rows["ok"].event.payload_hash


def test_an_accepted_event_has_no_error():
    _plan, (result,), _counts = run([raw("ok")])
    assert result == {"event_id": "ok", "status": "accepted"}


def test_the_closed_period_rule_is_asked_with_the_tenant_and_the_instant():
    asked = []
    run([raw("e", timestamp="2026-01-15T10:00:00+01:00")], is_closed=lambda *a: asked.append(a))
    assert asked == [(1, datetime(2026, 1, 15, 9, tzinfo=timezone.utc))]


def test_a_verdict_explains_its_reason():
    assert quarantine.Verdict("quarantined", "tenant_inactive").message == (
        "The tenant is suspended or closed."
    )
    assert quarantine.Verdict("accepted").message is None
    assert quarantine.Verdict("quarantined", "made_up").message is None


def test_an_event_id_repeated_in_a_batch_is_a_duplicate_or_a_conflict():
    plan, results, counts = run([raw("a"), raw("a"), raw("a", quantity=2), raw("b")])
    assert results == [
        {"event_id": "a", "status": "accepted"},
        {"event_id": "a", "status": "duplicate", "error": DUP},
        {"event_id": "a", "status": "rejected",
         "error": {"code": "idempotency_conflict", "message": CONFLICT}},
        {"event_id": "b", "status": "accepted"},
    ]  # fmt: skip
    assert counts == {"accepted": 2, "duplicates": 1, "quarantined": 0, "rejected": 1}
    assert plan.event_ids == ["a", "b"]


def test_an_event_stored_before_is_a_duplicate_or_a_conflict_with_the_documented_words():
    same = payload.parse_event(raw("same")).payload_hash
    _plan, results, _counts = run(
        [raw("same"), raw("changed")], inserted=set(), existing={"same": same, "changed": "x"}
    )
    assert results == [
        {"event_id": "same", "status": "duplicate", "error": DUP},
        {"event_id": "changed", "status": "rejected",
         "error": {"code": "idempotency_conflict", "message": CONFLICT}},
    ]  # fmt: skip


def test_a_rejected_event_keeps_its_parse_error():
    _plan, (result,), _counts = run([raw("bad", quantity=-1)])
    assert result == {
        "event_id": "bad",
        "status": "rejected",
        "error": {"code": "invalid_quantity", "message": "quantity must be >= 0"},
    }


@pytest.mark.parametrize(
    ("now", "start", "retry"),
    [(120.0, 120, 60), (179.2, 120, 1), (150.5, 120, 30), (0.0, 0, 60)],
)
def test_the_request_limit_counts_per_minute(now, start, retry):
    assert rate_limit.window_start(now) == start
    assert rate_limit.retry_after(now) == retry
    assert rate_limit.window_start(125, window=10) == 120
    assert rate_limit.retry_after(125, window=10) == 5


def test_the_limit_is_exceeded_only_above_it_and_zero_means_none():
    assert not rate_limit.is_over_limit(100, 100)
    assert rate_limit.is_over_limit(101, 100)
    assert not rate_limit.is_over_limit(10**6, 0)
    assert rate_limit.is_over_limit(2, 1)
    assert not rate_limit.is_over_limit(1, 1)


def test_one_day_ahead_is_the_future_tolerance():
    assert quarantine.FUTURE_TOLERANCE == timedelta(days=1)
