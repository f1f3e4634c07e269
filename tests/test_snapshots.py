import pytest

from usage_billing_connector.core import snapshots


@pytest.mark.parametrize(
    ("xid", "expected"),
    [(99, True), (100, True), (101, False), (102, True), (103, False), (150, False)],
)
def test_visibility_follows_postgresql(xid, expected):
    # xmin 101: everything below completed; 101 still running; 103 = xmax, not yet started.
    assert snapshots.visible(xid, "101:103:101") is expected


def test_billing_snapshot_text():
    assert snapshots.billing_snapshot("101:103:101", 105, 42) == "101:103:101;105;42"
    assert snapshots.billing_snapshot("101:103:", None, 7) == "101:103:;;7"


def test_other_transactions_count_when_the_snapshot_saw_them():
    snapshot = snapshots.billing_snapshot("101:103:101", 105, 42)
    assert snapshots.seen(100, 999, snapshot), "completed before: seen whatever its sequence"
    assert not snapshots.seen(101, 1, snapshot), "still running: not seen"
    assert not snapshots.seen(104, 1, snapshot), "started after: not seen"


def test_own_writes_count_when_they_came_before_the_snapshot():
    snapshot = snapshots.billing_snapshot("101:103:101", 105, 42)
    assert snapshots.seen(105, 41, snapshot)
    assert not snapshots.seen(105, 42, snapshot), "written after the snapshot, same transaction"
    assert not snapshots.seen(None, 1, snapshot), "not billable (quarantined)"


def test_a_read_only_billing_transaction_has_no_own_writes():
    snapshot = snapshots.billing_snapshot("101:103:", None, 42)
    assert snapshots.seen(102, 999, snapshot)
    assert not snapshots.seen(103, 1, snapshot)


@pytest.mark.parametrize(
    "snapshot",
    ["101:103:101;105;42", "101:103:;;7", "101:109:101,104;99;3", "200:200:;150;1", "5:90:5,60;"],
)
def test_only_the_candidate_transactions_made_unseen_events_billable(snapshot):
    # What lets the unbilled figure read only the events accepted since a billing.
    snapshot = snapshot if snapshot.count(";") == 2 else snapshot + ";1"
    first, others = snapshots.unseen_candidates(snapshot)
    for xid in range(0, 260):
        for seq in (0, 5, 50):
            if not snapshots.seen(xid, seq, snapshot):
                assert xid >= first or xid in others, (xid, seq)


def test_the_candidates_are_xmax_and_the_transactions_running_then_with_its_own():
    assert snapshots.unseen_candidates("101:103:101;105;42") == (103, [101, 105])
    assert snapshots.unseen_candidates("101:109:104,101;99;3") == (109, [99, 101, 104])
    assert snapshots.unseen_candidates("101:103:;;7") == (103, [])
    # A long transaction holds xmin back: the transactions in between are not candidates.
    assert snapshots.unseen_candidates("5:90:5,60;;1") == (90, [5, 60])


def test_several_transactions_in_progress_are_each_unseen():
    assert snapshots.parse("100:110:101,105,107") == (100, 110, [101, 105, 107])
    snapshot = snapshots.billing_snapshot("100:110:101,105,107", None, 3)
    assert [snapshots.seen(xid, 1, snapshot) for xid in (101, 104, 105, 107, 109)] == [
        False,
        True,
        False,
        False,
        True,
    ]
