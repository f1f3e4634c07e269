"""Errors an administrator or developer reads: clock, number and encryption-key problems.

Each says which value is wrong and why (``utc``, ``numbers``, ``secrets_box``); the
tests next to each module check that the value is refused, these check what is said.
"""

from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from usage_billing_connector.core import numbers, secrets_box, utc
from usage_billing_connector.core.secrets_box import SecretsBox


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-06-01", "period_start must be a datetime, got str"),
        (None, "period_start must be a datetime, got NoneType"),
        (datetime(2026, 6, 1, 8),
         "period_start must be timezone-aware (UTC), got naive 2026-06-01T08:00:00"),
    ],
)  # fmt: skip
def test_a_refused_moment_is_named_with_its_problem(value, message):
    with pytest.raises(ValueError) as err:
        utc.to_utc(value, "period_start")
    assert str(err.value) == message


def test_the_default_name_of_a_refused_moment_is_moment():
    with pytest.raises(ValueError, match=r"^moment must be a datetime, got int$"):
        utc.to_utc(5)


class Unknown(tzinfo):
    """A tzinfo that does not know its offset: as good as naive."""

    def utcoffset(self, moment):
        return None


def test_a_zone_without_offset_counts_as_naive():
    with pytest.raises(ValueError, match="must be timezone-aware"):
        utc.to_utc(datetime(2026, 6, 1, tzinfo=Unknown()))


def test_a_utc_moment_keeps_its_seconds_and_gets_the_utc_zone():
    moment = datetime(2026, 6, 1, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5)))
    converted = utc.to_utc(moment)
    assert converted == datetime(2026, 6, 2, 4, 59, 59, tzinfo=timezone.utc)
    assert converted.tzinfo is timezone.utc
    assert converted.microsecond == 0
    assert utc.naive(converted).tzinfo is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "price must be a number, got True"),
        (None, "price must be a number, got NoneType"),
        ([1], "price must be a number, got list"),
        ("1,5", "price is not a number: '1,5'"),
        (float("nan"), "price must be finite, got nan"),
        ("Infinity", "price must be finite, got 'Infinity'"),
    ],
)
def test_a_refused_number_is_named_with_its_problem(value, message):
    with pytest.raises(numbers.NumberError) as err:
        numbers.to_decimal(value, "price")
    assert str(err.value) == message


def test_the_default_name_of_a_refused_number_is_value():
    with pytest.raises(numbers.NumberError, match=r"^value must not be negative, got -0.5$"):
        numbers.to_non_negative("-0.5")
    with pytest.raises(numbers.NumberError, match=r"^value is not a number: 'x'$"):
        numbers.to_optional_decimal("x")
    with pytest.raises(numbers.NumberError, match=r"^value must be a number, got True$"):
        numbers.to_decimal(True)


def test_a_caller_error_class_is_used_for_every_refusal():
    class PriceError(numbers.NumberError):
        pass

    for bad in (True, "x", float("inf"), object()):
        with pytest.raises(PriceError):
            numbers.to_decimal(bad, "price", PriceError)
    with pytest.raises(PriceError):
        numbers.to_optional_decimal("x", "price", PriceError)
    assert numbers.to_non_negative(Decimal("0.00")) == 0
    assert numbers.to_optional_decimal(7, "n") == Decimal(7)


def test_a_missing_key_says_where_to_configure_one():
    with pytest.raises(secrets_box.MissingKeyError) as err:
        SecretsBox.from_config_value(None)
    assert str(err.value) == (
        "No encryption key configured: add 'encryption_keys = <Fernet key>' to the "
        "addon's section of the Odoo configuration file."
    )
    with pytest.raises(secrets_box.MissingKeyError):
        SecretsBox(["", "  ", None])


def test_an_invalid_key_is_reported_as_a_configuration_problem():
    with pytest.raises(secrets_box.MissingKeyError) as err:
        SecretsBox(["not-a-fernet-key"])
    assert str(err.value).startswith("Invalid encryption key in configuration: ")


def test_keys_are_read_trimmed_from_the_comma_separated_setting():
    key = Fernet.generate_key().decode()
    token = SecretsBox([key]).encrypt("s")
    assert SecretsBox.from_config_value(f" {key} , ").decrypt(token) == "s"


def test_an_unreadable_token_says_so_without_detail():
    box = SecretsBox([Fernet.generate_key().decode()])
    for bad in ("garbage", box.encrypt("s")[:-2]):
        with pytest.raises(secrets_box.InvalidSecretToken) as err:
            box.decrypt(bad)
        assert str(err.value) == "Stored secret cannot be decrypted with the configured keys."
    with pytest.raises(secrets_box.InvalidSecretToken):
        box.rotate("garbage")


def test_generated_secrets_are_url_safe_and_as_long_as_asked():
    secret = secrets_box.generate_secret()
    assert len(secret) == 43  # 32 bytes, base64url without padding
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(secrets_box.generate_secret(8)) == 11
    assert secrets_box.generate_secret() != secrets_box.generate_secret()


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (None, ""),
        ("abcdefghijk", "••••"),
        ("abcdefghijkl", "••••ijkl"),
        ("x" * 40 + "WXYZ", "••••WXYZ"),
    ],
)
def test_a_secret_shows_its_last_four_characters_only_when_long_enough(secret, shown):
    assert secrets_box.mask(secret) == shown
