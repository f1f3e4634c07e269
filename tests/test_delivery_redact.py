"""Credentials removed from logged text (usage_billing_connector.core.delivery.redact)."""

import pytest

from usage_billing_connector.core.delivery.redact import REDACTED, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.DEF-123_xyz", f"Authorization: Bearer {REDACTED}"),
        (
            "{'Authorization': 'Bearer 00D!AQ.tok/en=='}",
            f"{{'Authorization': 'Bearer {REDACTED}'}}",
        ),
        ("GET /x?access_token=s3cr3t&limit=1", f"GET /x?access_token={REDACTED}&limit=1"),
        ('{"access_token": "s3c\\"r3t", "ok": 1}', f'{{"access_token": "{REDACTED}", "ok": 1}}'),
        ("{'refresh_token': 'r1'}", f"{{'refresh_token': '{REDACTED}'}}"),
        (
            "grant_type=refresh_token&refresh_token=5Aep861&client_secret=abc",
            f"grant_type=refresh_token&refresh_token={REDACTED}&client_secret={REDACTED}",
        ),
        ('"client_secret":"x y"', f'"client_secret":"{REDACTED}"'),
        ("Authorization: Basic dXNlcjpwYXNz", f"Authorization: Basic {REDACTED}"),
        # no false positives on ordinary account data
        ("plan: Basic, the bearer of bad news", "plan: Basic, the bearer of bad news"),
        ("refresh_token grant refused", "refresh_token grant refused"),
    ],
)
def test_redact_patterns(text, expected):
    assert redact(text) == expected


def test_redact_known_secrets_also_url_encoded():
    secret = "p@ss/word+1"
    text = f"secret {secret} form=p%40ss%2Fword%2B1 query=p%40ss%2Fword%2B1"
    assert redact(text, [secret]) == f"secret {REDACTED} form={REDACTED} query={REDACTED}"


def test_redact_ignores_empty_and_tiny_secrets_and_none():
    assert redact("a b c", ["", None, "a"]) == "a b c"
    assert redact(None, ["secret"]) is None


def test_redact_overlapping_secrets_hides_the_longest_fully():
    assert redact("token-abcdef", ["token", "token-abcdef"]) == REDACTED


def test_redact_a_secret_inside_a_longer_one_that_sorts_before_it():
    # Alphabetically "zzzz1234" comes after "aaaa-zzzz1234": only longest-first
    # replaces the longer secret whole instead of leaving its "aaaa-" visible.
    assert redact("key aaaa-zzzz1234", ["zzzz1234", "aaaa-zzzz1234"]) == f"key {REDACTED}"


def test_redact_a_secret_of_exactly_the_minimum_length():
    assert redact("pin abcd", ["abcd"]) == f"pin {REDACTED}"


def test_a_tiny_secret_does_not_stop_the_others_being_redacted():
    assert redact("ab s3cr3t-value", ["ab", "s3cr3t-value"]) == f"ab {REDACTED}"


def test_redact_a_secret_percent_encoded_with_its_slash():
    # A space and a slash: only quote(safe="") gives "%20" with "%2F" (quote_plus
    # writes "+", quote's default keeps "/").
    secret = "pa ss/word"
    assert redact("url=pa%20ss%2Fword", [secret]) == f"url={REDACTED}"
