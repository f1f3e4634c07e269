"""The load script's checks (tools/load_checks.py): answers per kind of batch, stored rows."""

import load_checks
from load_checks import GHOST_TENANT, Ledger, check_rows, judge, percentile
from usage_client import Summary

from usage_billing_connector.core.payload import parse_event

EVENT = {
    "event_id": "e1",
    "tenant": "acme",
    "metric": "api_calls",
    "quantity": 3,
    "timestamp": "2026-01-15T10:00:00Z",
}


def answer(**counts):
    return Summary(**counts)


def events(n):
    return [{**EVENT, "event_id": f"e{i}"} for i in range(n)]


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7], 0.99) == 7
    assert percentile([], 0.5) is None


def test_a_new_batch_is_stored_or_quarantined_and_nothing_else():
    assert judge("new", events(10), [answer(accepted=8, quarantined=2)], ghosts=2) == []
    assert judge("new", events(10), [answer(accepted=10)], ghosts=2)
    assert judge("new", events(10), [answer(accepted=9, rejected=1)])
    assert "answer counts 9" in judge("new", events(10), [answer(accepted=9)])[0]


def test_a_retried_new_batch_may_be_all_duplicates_never_half():
    retried = answer(duplicates=10, retries=1)
    assert judge("new", events(10), [retried]) == []
    assert judge("new", events(10), [answer(duplicates=10)])  # no retry: no excuse
    assert judge("new", events(10), [answer(accepted=5, duplicates=5, retries=2)])


def test_resent_batches_are_duplicates_and_conflicts_rejected_as_such():
    assert judge("duplicate", events(4), [answer(duplicates=4)]) == []
    assert judge("duplicate", events(4), [answer(accepted=4)])
    conflict = answer(rejected=2, errors=[{"code": "idempotency_conflict"}] * 2)
    assert judge("conflict", events(2), [conflict]) == []
    other = answer(rejected=2, errors=[{"code": "invalid_quantity"}] * 2)
    assert judge("conflict", events(2), [other])


def test_a_raced_batch_is_stored_once_between_the_two_answers():
    ok = [answer(accepted=3, duplicates=1), answer(accepted=1, duplicates=3)]
    assert judge("race", events(4), ok) == []
    assert judge("race", events(4), [answer(accepted=4), answer(accepted=4)])


def test_an_unanswered_batch_is_left_to_the_database_check():
    assert judge("new", events(3), [answer(failed_batches=1)]) == []


def test_rows_must_be_exactly_the_acknowledged_events():
    acknowledged = {"a": ("accepted", "h1"), "b": ("quarantined", "h2")}
    in_doubt = {"c": ("accepted", "h3")}
    good = [("a", "accepted", "h1"), ("b", "quarantined", "h2")]
    assert check_rows(good, acknowledged, in_doubt) == []
    assert check_rows([*good, ("c", "accepted", "h3")], acknowledged, in_doubt) == []
    problems = check_rows(
        [("a", "accepted", "h1"), ("a", "accepted", "h1"), ("x", "accepted", "h9")],
        acknowledged,
        in_doubt,
    )
    assert [p.split(":")[0] for p in problems] == [
        "1 event(s) stored twice",
        "1 event(s) acknowledged but not stored",
        "1 event(s) stored but never sent",
    ]
    conflicting = [("a", "accepted", "other"), ("b", "quarantined", "h2")]
    assert "another payload" in check_rows(conflicting, acknowledged, in_doubt)[0]


def test_the_ledger_splits_acknowledged_and_in_doubt_events():
    ledger = Ledger()
    ghost = {**EVENT, "event_id": "g", "tenant": GHOST_TENANT}
    ledger.record("new", [EVENT, ghost], [answer(accepted=1, quarantined=1)], ghosts=1)
    ledger.record("new", [{**EVENT, "event_id": "lost?"}], [answer(failed_batches=1)])
    assert ledger.acknowledged["e1"][0] == "accepted"
    assert ledger.acknowledged["g"][0] == "quarantined"
    assert list(ledger.in_doubt) == ["lost?"]
    assert ledger.batches == [[EVENT, ghost]]
    assert ledger.tally["new"]["events"] == 3 and ledger.problems == []


def test_the_expected_hash_is_the_servers():
    assert load_checks.expectation(EVENT) == ("accepted", parse_event(EVENT).payload_hash)
