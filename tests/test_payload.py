import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from usage_billing_connector.core import payload
from usage_billing_connector.core.payload import BatchError, Rejection, Repeat, UsageEvent


def event(**overrides):
    raw = {
        "event_id": "e-1",
        "tenant": "acme",
        "metric": "api_calls",
        "quantity": 5,
        "timestamp": "2026-01-15T10:00:00Z",
    }
    raw.update(overrides)
    return raw


def test_body_parsing_keeps_decimals_exact():
    events = payload.parse_body(b'{"events": [{"quantity": 0.1}]}', max_events=10)
    assert events[0]["quantity"] == Decimal("0.1")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{nope", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[]", "invalid_request"),
        (b'{"events": {}}', "invalid_request"),
        (b'{"events": []}', "invalid_request"),
        (b'{"events": [1, 2, 3]}', "too_many_events"),
    ],
)
def test_bad_bodies_fail_the_whole_batch(body, code):
    with pytest.raises(BatchError) as err:
        payload.parse_body(body, max_events=2)
    assert (err.value.status, err.value.code) == (400, code)


def test_valid_event_is_normalised_to_utc():
    parsed = payload.parse_event(event(timestamp="2026-01-15T12:30:00.5+02:00", quantity="7.25"))
    assert isinstance(parsed, UsageEvent)
    assert parsed.occurred_at == datetime(2026, 1, 15, 10, 30, 0, 500000, tzinfo=timezone.utc)
    assert parsed.quantity == Decimal("7.25")
    assert parsed.properties == {}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"event_id": ""}, "invalid_event_id"),
        ({"event_id": "x" * 129}, "invalid_event_id"),
        ({"event_id": 12}, "invalid_event_id"),
        ({"tenant": ""}, "missing_field"),
        ({"metric": None}, "missing_field"),
        ({"quantity": -1}, "invalid_quantity"),
        ({"quantity": "1e999999"}, "invalid_quantity"),
        ({"quantity": "NaN"}, "invalid_quantity"),
        ({"quantity": None}, "invalid_quantity"),
        ({"quantity": True}, "invalid_quantity"),
        ({"quantity": "0.0000000001"}, "invalid_quantity"),
        ({"timestamp": "2026-01-15"}, "invalid_timestamp"),
        ({"timestamp": "2026-01-15T10:00:00"}, "invalid_timestamp"),
        ({"timestamp": "2026-02-30T10:00:00Z"}, "invalid_timestamp"),
        ({"timestamp": 1700000000}, "invalid_timestamp"),
        ({"properties": [1]}, "invalid_properties"),
    ],
)
def test_malformed_events_are_rejected_with_a_code(overrides, code):
    parsed = payload.parse_event(event(**overrides))
    assert isinstance(parsed, Rejection)
    assert parsed.code == code
    assert parsed.message


def test_128_character_id_and_nine_decimals_are_accepted():
    parsed = payload.parse_event(event(event_id="x" * 128, quantity="0.000000001"))
    assert parsed.quantity == Decimal("0.000000001")


def test_payload_hash_ignores_number_spelling_but_not_values():
    base = payload.parse_event(event(quantity=10)).payload_hash
    assert payload.parse_event(event(quantity="10.000")).payload_hash == base
    assert payload.parse_event(event(quantity=Decimal("10.0"))).payload_hash == base
    same_moment = event(quantity=10, timestamp="2026-01-15T11:00:00+01:00")
    assert payload.parse_event(same_moment).payload_hash == base
    assert payload.parse_event(event(quantity=11)).payload_hash != base
    assert payload.parse_event(event(properties={"a": 1})).payload_hash != base


def test_repeats_in_a_batch_point_at_the_first_copy():
    parsed = payload.parse_events([event(), event(event_id="e-2"), event(quantity=6)])
    assert isinstance(parsed[2], Repeat)
    assert parsed[2].first_index == 0


# ------------------------------------------------------------------ hostile input


@pytest.mark.parametrize("field", ["event_id", "tenant", "metric", "timestamp", "quantity"])
@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b", "\udfff"])
def test_unstorable_characters_in_any_field_reject_the_event(field, bad):
    parsed = payload.parse_event(event(**{field: bad}))
    assert isinstance(parsed, Rejection)
    assert parsed.code == "invalid_characters"
    assert field in parsed.message
    # The rejection never echoes an id that could not be logged or stored.
    assert parsed.event_id == (None if field == "event_id" else "e-1")


@pytest.mark.parametrize(
    "properties",
    [{"k": "v\x00"}, {"k\x00": 1}, {"k": ["\ud800"]}, {"k": {"\udbff": {"x": "y"}}}],
)
def test_unstorable_characters_in_properties_reject_the_event(properties):
    parsed = payload.parse_event(event(properties=properties))
    assert (parsed.code, parsed.event_id) == ("invalid_characters", "e-1")


def test_properties_nesting_and_size_are_bounded():
    nested = {"v": 1}
    for _ in range(payload.MAX_PROPERTIES_DEPTH - 1):
        nested = {"n": nested}
    assert isinstance(payload.parse_event(event(properties=nested)), UsageEvent)
    too_deep = payload.parse_event(event(properties={"n": nested}))
    assert (too_deep.code, too_deep.event_id) == ("invalid_properties", "e-1")
    assert "nested deeper than 8" in too_deep.message
    big = {"s": "x" * payload.MAX_PROPERTIES_BYTES}
    assert payload.parse_event(event(properties=big)).code == "invalid_properties"
    fits = {"s": "é" * ((payload.MAX_PROPERTIES_BYTES - 8) // 2)}  # 2 bytes each in UTF-8
    assert isinstance(payload.parse_event(event(properties=fits)), UsageEvent)


def test_property_numbers_stay_exact_or_are_refused():
    parsed = payload.parse_body(
        b'{"events": [{"properties": {"id": 123456789012345678901234567890, "r": 0.5,'
        b' "neg": -0, "e": 1e2}}]}',
        10,
    )
    properties = payload.parse_event(event(properties=parsed[0]["properties"])).properties
    assert properties == {"id": 123456789012345678901234567890, "r": 0.5, "neg": 0, "e": 100}
    assert type(properties["e"]) is int
    for huge in (b"1e309", b"-1.5e400"):
        raw = payload.parse_body(b'{"events": [{"properties": {"x": %s}}]}' % huge, 10)
        assert payload.parse_event(event(properties=raw[0]["properties"])).code == (
            "invalid_properties"
        )


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"quantity": NaN}]}',
        b'{"events": [{"quantity": Infinity}]}',
        b'{"events": [{"quantity": -Infinity}]}',
        '{"events": []}'.encode("utf-16"),
        '{"events": []}'.encode("utf-32"),
        b'{"events": ["\xc3\x28"]}',
        b"[" * 100 + b"]" * 100,
        b'{"events": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
        b'{"events": [{"quantity": ' + b"9" * 5000 + b"}]}",
    ],
)
def test_bodies_that_are_not_plain_utf8_json_fail_with_400(body):
    with pytest.raises(BatchError) as err:
        payload.parse_body(body, max_events=10)
    assert (err.value.status, err.value.code) == (400, "invalid_json")
    assert err.value.message


def test_utf8_byte_order_mark_is_ignored():
    assert payload.parse_body(b'\xef\xbb\xbf{"events": [1]}', 10) == [1]


@pytest.mark.parametrize(
    ("quantity", "accepted"),
    [
        (" 7.5\t", True),
        ("١٢٣", False),  # Arabic-Indic digits: Decimal() would take them
        ("1e3", False),
        ("+1", False),
        ("1.", False),
        (".5", False),
        ("0x10", False),
        ("1_000", False),
    ],
)
def test_quantity_strings_are_plain_ascii_decimals(quantity, accepted):
    parsed = payload.parse_event(event(quantity=quantity))
    assert isinstance(parsed, UsageEvent) is accepted
    if not accepted:
        assert parsed.code == "invalid_quantity"


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
        "２０２６-01-15T10:00:00Z",  # full-width digits
        "2026-01-15T10:00:00Z\n",
    ],
)
def test_out_of_range_or_non_ascii_timestamps_are_rejected(timestamp):
    parsed = payload.parse_event(event(timestamp=timestamp))
    assert parsed.code == "invalid_timestamp"


def test_rejections_echo_only_storable_ids():
    assert payload.raw_event_id({"event_id": "ok"}) == "ok"
    assert payload.raw_event_id({"event_id": "x" * 129}) is None
    assert payload.raw_event_id({"event_id": "a\x00"}) is None
    assert payload.raw_event_id({"event_id": 5}) is None
    assert payload.raw_event_id("not a dict") is None


# ------------------------------------------------- the payload hash's canonical form


def reference_canonical(event):
    """The canonical form as first written (stored hashes depend on it byte for byte)."""
    return json.dumps(
        [
            event.event_id,
            event.tenant,
            event.metric,
            format(event.quantity.normalize(), "f"),
            event.occurred_at.isoformat(),
            event.properties,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
)
_json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
).filter(str.strip)


@given(
    event_id=_texts,
    tenant=_texts,
    metric=_texts,
    quantity=st.decimals(min_value=0, max_value=10**12, places=9),
    moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    properties=st.dictionaries(st.text(max_size=8), _json_values, max_size=4),
)
def test_canonical_payload_is_the_reference_form(
    event_id, tenant, metric, quantity, moment, properties
):
    raw = {
        "event_id": event_id,
        "tenant": tenant,
        "metric": metric,
        "quantity": str(quantity),
        "timestamp": moment.isoformat() + "+02:00",
        "properties": properties,
    }
    parsed = payload.parse_event(raw)
    assume(isinstance(parsed, UsageEvent))
    assert payload.canonical_payload(parsed) == reference_canonical(parsed)


def test_payload_hash_of_a_known_event_is_unchanged():
    """A hash stored by an earlier version: a resent event must still be a duplicate."""
    parsed = payload.parse_event(
        event(quantity="10.50", properties={"b": [1, 2.5, "é"], "a": {"z": None, "y": True}})
    )
    assert payload.canonical_payload(parsed) == (
        '["e-1","acme","api_calls","10.5","2026-01-15T10:00:00+00:00",'
        '{"a":{"y":true,"z":null},"b":[1,2.5,"\\u00e9"]}]'
    )
    assert parsed.payload_hash == hashlib.sha256(reference_canonical(parsed).encode()).hexdigest()


def test_a_round_quantity_is_hashed_in_plain_digits():
    # 1000 normalises to 1E+3: the hashed text must stay the plain "1000" stored
    # hashes were taken of, or resending such an event would be a conflict.
    parsed = payload.parse_event(event(quantity="1000.00"))
    assert ',"1000","2026-01-15T10:00:00+00:00",' in payload.canonical_payload(parsed)


def test_empty_or_missing_properties_are_an_empty_object():
    assert payload.parse_event(event(properties={})).properties == {}
    assert payload.parse_event(event()).properties == {}
    assert payload.canonical_payload(payload.parse_event(event())).endswith(",{}]")
