"""Hypothesis strategies for signed fuzzing of the API (well-formed, edgy and hostile input).

Bodies are built as bytes by ``to_json`` so that they can carry what ``json.dumps``
refuses or normalises: numbers such as ``1e309`` or ``-0`` written as such, NUL
characters and lone surrogates as ``\\u`` escapes.
"""

import json
from decimal import Decimal

from hypothesis import strategies as st


def to_json(value):
    """JSON text of ``value``; ``Decimal`` is written as the number it spells."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value)  # ensure_ascii: NUL and surrogates as \\u escapes


HOSTILE_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff", "é", "🙂", "\u202e", "x" * 300]
)
TEXT = st.one_of(st.text(max_size=20), HOSTILE_TEXT)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from(
        [
            Decimal("1e309"),
            Decimal("-1e309"),
            Decimal("-0"),
            Decimal("0.0000000001"),
            Decimal("1e-400"),
            Decimal("123456789012345678901234567890.5"),
        ]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d.adjusted()) < 400
    ),
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def deeply_nested(depth):
    value = {"v": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


TIMESTAMPS = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + "Z"),
    st.sampled_from(
        [
            "2026-01-15T10:00:00Z",
            "2026-01-15T10:00:00.123456789+05:30",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-23:59",
            "2026-02-30T00:00:00Z",
            "2026-01-15",
            "2026-01-15T10:00:00Z\x00",
        ]
    ),
    TEXT,
    NUMBERS,
)


def usage_events(tenants, metrics):
    """Usage events: mostly valid, with edge values, wrong types and hostile strings."""
    event_ids = st.one_of(st.text(min_size=1, max_size=12), TEXT, st.integers(), st.none())
    return st.fixed_dictionaries(
        {
            "event_id": event_ids,
            "tenant": st.one_of(st.sampled_from(tenants), TEXT, st.none()),
            "metric": st.one_of(st.sampled_from(metrics), TEXT),
            "quantity": st.one_of(NUMBERS, st.sampled_from(["1.5", " 2 ", "1e3", "-1", "NaN"])),
            "timestamp": TIMESTAMPS,
        },
        optional={
            "properties": st.one_of(
                ANY_JSON,
                st.dictionaries(TEXT, ANY_JSON, max_size=3),
                st.just(deeply_nested(30)),
                st.just({"big": "x" * 20000}),
            )
        },
    )


def lifecycle_events(tenants, plans):
    kinds = ["activated", "plan_changed", "seats_changed", "suspended", "reactivated", "cancelled"]
    return st.fixed_dictionaries(
        {
            "event_id": st.one_of(st.text(min_size=1, max_size=12), TEXT, st.integers()),
            "tenant": st.one_of(st.sampled_from(tenants), TEXT),
            "type": st.one_of(st.sampled_from(kinds), TEXT),
            "effective_at": TIMESTAMPS,
        },
        optional={
            "plan": st.one_of(st.sampled_from(plans), TEXT, NUMBERS),
            "seats": st.one_of(
                st.integers(min_value=-5, max_value=2**40), NUMBERS, st.booleans(), TEXT
            ),
        },
    )


def bodies(events):
    """Whole request bodies as bytes: batches of ``events`` and hostile shapes."""
    batch = st.lists(st.one_of(events, ANY_JSON), min_size=1, max_size=8)
    envelope = batch.map(lambda items: to_json({"events": items}).encode())
    return st.one_of(
        envelope,
        envelope,
        envelope,
        batch.map(lambda items: b"\xef\xbb\xbf" + to_json({"events": items}).encode()),
        batch.map(lambda items: to_json({"events": items}).encode("utf-16")),
        ANY_JSON.map(lambda value: to_json(value).encode()),
        st.binary(max_size=64),
        st.integers(min_value=50, max_value=4000).map(
            lambda depth: b'{"events": [' + b"[" * depth + b"]" * depth + b"]}"
        ),
    )
