import hashlib
import hmac

import pytest

from usage_billing_connector.core import signing

BODY = b'{"events": []}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signing.sign_header("s3cret", 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_verify_accepts_fresh_matching_signature():
    header = signing.sign_header("s3cret", 1000, BODY)
    assert signing.verify(header, BODY, ["s3cret"], now=1100, tolerance=300).timestamp == 1000


@pytest.mark.parametrize("now", [699, 1301])
def test_verify_refuses_timestamps_outside_tolerance(now):
    header = signing.sign_header("s3cret", 1000, BODY)
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(header, BODY, ["s3cret"], now=now, tolerance=300)
    assert err.value.code == "stale_signature"


def test_verify_refuses_another_body_or_secret():
    header = signing.sign_header("s3cret", 1000, BODY)
    for body, secrets in ((BODY + b" ", ["s3cret"]), (BODY, ["other"]), (BODY, [])):
        with pytest.raises(signing.SignatureError) as err:
            signing.verify(header, body, secrets, now=1000, tolerance=300)
        assert err.value.code == "invalid_signature"


def test_any_of_several_v1_entries_and_any_secret_passes():
    good = signing.compute("new", 1000, BODY)
    header = f"t=1000,v1={'0' * 64},v1={good},v0=ignored"
    assert signing.verify(header, BODY, ["old", "new"], now=1000, tolerance=300)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=1000", "t=abc,v1=00", "garbage"])
def test_malformed_headers_are_invalid_signatures(header):
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(header, BODY, ["s"], now=1000, tolerance=300)
    assert err.value.code == "invalid_signature"


@pytest.mark.parametrize("position", [0, 8, 31, 63])
def test_a_signature_differing_in_any_one_character_is_refused(position):
    good = signing.compute("s3cret", 1000, BODY)
    flipped = good[:position] + ("0" if good[position] != "0" else "1") + good[position + 1 :]
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(f"t=1000,v1={flipped}", BODY, ["s3cret"], now=1000, tolerance=300)
    assert err.value.code == "invalid_signature"


@pytest.mark.parametrize(
    "candidate",
    ["é" * 64, "\x00" * 64, "g" * 64, "ab", "0" * 65],
)
def test_signatures_that_are_not_hex_digests_never_crash(candidate):
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(f"t=1000,v1={candidate}", BODY, ["s"], now=1000, tolerance=300)
    assert err.value.code == "invalid_signature"


@pytest.mark.parametrize("timestamp", ["١٠٠٠", "-1000", "+1000", " ", "1e3"])
def test_timestamps_must_be_ascii_digits(timestamp):
    good = signing.compute("s", 1000, BODY)
    with pytest.raises(signing.SignatureError) as err:
        signing.verify(f"t={timestamp},v1={good}", BODY, ["s"], now=1000, tolerance=300)
    assert err.value.code == "invalid_signature"


def test_uppercase_hex_signature_is_accepted():
    good = signing.compute("s", 1000, BODY).upper()
    assert signing.verify(f"t=1000,v1={good}", BODY, ["s"], now=1000, tolerance=300)


def test_parts_without_a_value_are_skipped_not_the_end_of_the_header():
    header = "junk," + signing.sign_header("s3cret", 1000, b"{}")
    assert signing.verify(header, b"{}", ["s3cret"], now=1000, tolerance=300).timestamp == 1000


def test_a_timestamp_with_an_equals_sign_is_not_an_integer():
    with pytest.raises(signing.SignatureError) as err:
        signing.parse_header("t=1=2,v1=" + "a" * 64)
    assert err.value.message == "Signature timestamp is not an integer."


def test_the_first_secret_or_signature_matching_is_enough():
    header = signing.sign_header("new", 1000, b"{}") + ",v1=" + "0" * 64
    assert signing.verify(header, b"{}", ["new", "old"], now=1000, tolerance=0)
