"""The checks of ``tools/load_ingest.py``, pure: what each answer and the stored rows must be.

Kinds of batch: ``new`` (fresh ids, some for an unknown tenant, quarantined),
``duplicate`` (an acknowledged batch resent byte-identical), ``conflict`` (same
ids, another payload), ``race`` (a new batch sent twice at once), ``resend`` (a
batch whose retries ran out, sent again after the load).
"""

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

import usage_client  # noqa: F401 - makes the addon's core importable without Odoo

from usage_billing_connector.core.payload import parse_event

KINDS = ("new", "duplicate", "conflict", "race", "resend")
COUNTS = ("accepted", "duplicates", "quarantined", "rejected")
GHOST_TENANT = "load-ghost-tenant"  # not a tenant: its events are quarantined


# ------------------------------------------------------------- pure checks


def percentile(values, fraction):
    """Nearest-rank percentile of ``values`` (``fraction`` in [0, 1]); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def judge(kind, events, summaries, ghosts=0):
    """Problems with the answer(s) to one batch of ``kind`` (``summaries``: one per sender)."""
    total = Counter()
    for summary in summaries:
        if summary.failed_batches:
            return []  # unanswered: its events are "in doubt", judged in the database
        answered = sum(getattr(summary, name) for name in COUNTS)
        if answered != len(events):
            return [f"{kind}: answer counts {answered} results for {len(events)} events"]
        total.update({name: getattr(summary, name) for name in COUNTS})
    n, retried = len(events), any(summary.retries for summary in summaries)
    stored = {"accepted": n - ghosts, "quarantined": ghosts}
    if kind == "duplicate":
        expected = [{"duplicates": n}]
    elif kind == "conflict":
        codes = {e.get("code") for s in summaries for e in s.errors}
        expected = [{"rejected": n}] if codes <= {"idempotency_conflict"} else []
    elif kind == "race":
        expected = [{**stored, "duplicates": n}]
    else:  # new, resend: a retry whose first attempt was stored answers duplicates
        retried = retried or kind == "resend"
        expected = [stored, {"duplicates": n}] if retried else [stored]
    if any(total == Counter(option) for option in expected):
        return []
    return [f"{kind}: {n} events ({ghosts} for the unknown tenant) answered {dict(total)}"]


def check_rows(rows, acknowledged, in_doubt):
    """Problems in the stored rows of the run: ``[(event_id, state, payload_hash)]``.

    ``acknowledged``/``in_doubt``: event_id -> (expected state, expected payload hash).
    """
    problems, seen = [], Counter(row[0] for row in rows)
    doubled = sorted(i for i, count in seen.items() if count > 1)
    lost = sorted(set(acknowledged) - set(seen))
    unexpected = sorted(set(seen) - set(acknowledged) - set(in_doubt))
    wrong = sorted(
        event_id
        for event_id, state, digest in rows
        if (acknowledged.get(event_id) or in_doubt.get(event_id, (state, digest)))
        != (state, digest)
    )
    for label, ids in (
        ("stored twice", doubled),
        ("acknowledged but not stored", lost),
        ("stored but never sent", unexpected),
        ("stored with another payload or state", wrong),
    ):
        if ids:
            problems.append(f"{len(ids)} event(s) {label}: {ids[:5]}")
    return problems


def expectation(event):
    state = "quarantined" if event["tenant"] == GHOST_TENANT else "accepted"
    return state, parse_event(event).payload_hash


# ------------------------------------------------------------------- load


@dataclass
class Ledger:
    """What the clients sent and were told; shared by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    batches: list = field(default_factory=list)  # acknowledged batches, for resending
    acknowledged: dict = field(default_factory=dict)  # event_id -> expectation
    in_doubt: dict = field(default_factory=dict)
    tally: dict = field(default_factory=lambda: {kind: Counter() for kind in KINDS})
    unanswered: list = field(default_factory=list)  # (events, ghosts) whose retries ran out
    latencies: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def record(self, kind, events, summaries, ghosts=0):
        problems = judge(kind, events, summaries, ghosts)
        expected = {}
        if kind in ("new", "race", "resend"):
            expected = {event["event_id"]: expectation(event) for event in events}
        answered = any(not summary.failed_batches for summary in summaries)
        with self.lock:
            tally = self.tally[kind]
            tally["batches"] += 1
            tally["events"] += len(events) * len(summaries)
            for summary in summaries:
                for name in (*COUNTS, "requests", "retries", "failed_batches"):
                    tally[name] += getattr(summary, name)
            self.problems += problems
            if expected and answered:
                self.acknowledged.update(expected)
                self.batches.append(events)
                for event_id in expected:
                    self.in_doubt.pop(event_id, None)
            elif expected:
                self.in_doubt.update(expected)
                self.unanswered.append((events, ghosts))

    def restart_clock(self):
        """Forget the counters and latencies (after the warm-up), keep what is stored."""
        with self.lock:
            self.tally = {kind: Counter() for kind in KINDS}
            self.latencies = []

    def pick_batch(self, rng):
        with self.lock:
            return rng.choice(self.batches) if self.batches else None
