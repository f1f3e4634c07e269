"""Decoding and checking JSON from outside (core.untrusted_json).

Whatever reaches PostgreSQL must be storable: no NUL, no lone surrogate, bounded
nesting, exact numbers, UTF-8 only.  Each refusal has a code and says what is wrong.
"""

from decimal import Decimal

import pytest

from usage_billing_connector.core import untrusted_json
from usage_billing_connector.core.untrusted_json import UntrustedJsonError


def refusal(call, *args):
    with pytest.raises(UntrustedJsonError) as err:
        call(*args)
    assert str(err.value) == err.value.message
    return err.value.code, err.value.message


def test_numbers_with_a_fraction_or_exponent_are_exact_decimals():
    data = untrusted_json.decode(b'{"a": 0.1, "b": 1e2, "c": 3, "d": [true, null, "x"]}')
    assert data == {"a": Decimal("0.1"), "b": Decimal("1E+2"), "c": 3, "d": [True, None, "x"]}
    assert isinstance(data["c"], int)


def test_a_utf8_byte_order_mark_is_ignored_and_text_is_accepted_as_is():
    assert untrusted_json.decode(b'\xef\xbb\xbf{"a": "\xc3\xa9"}') == {"a": "é"}
    assert untrusted_json.decode(bytearray(b"[1]")) == [1]
    assert untrusted_json.decode('{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"NaN", "Body is not valid JSON: NaN is not a JSON number"),
        (b"[-Infinity]", "Body is not valid JSON: -Infinity is not a JSON number"),
        (b"", "Body is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"\xfe\xff\x00[", "Body is not UTF-8: 'utf-8' codec can't decode byte 0xfe in position 0: "
         "invalid start byte"),
        (b"\xef\xbb\xbf\xef\xbb\xbf[]", "Body is not valid JSON: Unexpected UTF-8 BOM "
         "(decode using utf-8-sig): line 1 column 1 (char 0)"),
    ],
)  # fmt: skip
def test_what_is_not_utf8_json_is_refused_saying_why(body, message):
    assert refusal(untrusted_json.decode, body) == ("invalid_json", message)


def test_nesting_is_bounded_by_the_limit_given():
    assert untrusted_json.decode(b"[[[1]]]", 3) == [[[1]]]
    assert refusal(untrusted_json.decode, b"[[[[1]]]]", 3) == (
        "invalid_json",
        "JSON is nested deeper than 3 levels.",
    )
    deep = b"[" * 64 + b"]" * 64
    assert untrusted_json.decode(deep) is not None
    assert refusal(untrusted_json.decode, b"[" + deep + b"]")[1] == (
        "JSON is nested deeper than 64 levels."
    )


def test_nesting_beyond_pythons_recursion_is_refused_not_crashed_on():
    body = b"[" * 200_000 + b"]" * 200_000
    assert refusal(untrusted_json.decode, body) == (
        "invalid_json",
        "JSON is nested deeper than 64 levels.",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("fine é 😀", None),
        ("", None),
        ("a\x00b", "contains a NUL character (\\u0000)"),
        ("\udc00", "contains a lone UTF-16 surrogate"),
        ("\x00\ud800", "contains a NUL character (\\u0000)"),
    ],
)
def test_text_problems_are_named(text, problem):
    assert untrusted_json.text_problem(text) == problem


def test_check_text_returns_storable_text_and_names_the_field_otherwise():
    assert untrusted_json.check_text("acme", "tenant") == "acme"
    assert refusal(untrusted_json.check_text, "\ud800", "tenant") == (
        "invalid_characters",
        "tenant contains a lone UTF-16 surrogate.",
    )


def test_depth_counts_containers_only():
    untrusted_json.check_depth({"a": [1, "x", None]}, 2, "too_deep", "doc")
    untrusted_json.check_depth("scalar", 0, "too_deep", "doc")
    assert refusal(untrusted_json.check_depth, {"a": [{}]}, 2, "too_deep", "doc") == (
        "too_deep",
        "doc is nested deeper than 2 levels.",
    )
    assert refusal(untrusted_json.check_depth, [[], [[]]], 2, "too_deep", "doc")[0] == "too_deep"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"ok": ["x", {"deep": "a\x00"}]}, "props contains a NUL character (\\u0000)."),
        ({"k\ud800": 1}, "props key contains a lone UTF-16 surrogate."),
        (["\x00"], "props contains a NUL character (\\u0000)."),
        ("\x00", "props contains a NUL character (\\u0000)."),
    ],
)
def test_every_key_and_string_of_a_tree_is_checked(value, message):
    assert refusal(untrusted_json.check_tree_text, value, "props") == (
        "invalid_characters",
        message,
    )


def test_a_storable_tree_passes():
    untrusted_json.check_tree_text({"a": [1, Decimal("2.5"), None, True, {"b": "é"}]}, "props")


def test_depth_is_checked_past_scalars_beside_a_deep_container():
    with pytest.raises(UntrustedJsonError):
        untrusted_json.check_depth([[[[]]], 1], 2, "too_deep", "doc")
    with pytest.raises(UntrustedJsonError):
        untrusted_json.check_depth({"deep": [[[]]], "flat": "x"}, 2, "too_deep", "doc")
