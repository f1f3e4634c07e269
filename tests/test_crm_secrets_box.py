"""Encryption at rest of CRM credentials (crm_sync_connector.core.secrets_box)."""

import pytest
from cryptography.fernet import Fernet

from crm_sync_connector.core.secrets_box import (
    InvalidKeyError,
    InvalidSecretToken,
    MissingKeyError,
    SecretsBox,
    generate_key,
    mask,
)

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SECRET = "sf-client-secret-Ω-8f3a9c"


def test_round_trip_including_non_ascii():
    box = SecretsBox([NEW_KEY])
    assert box.decrypt(box.encrypt(SECRET)) == SECRET
    assert box.decrypt(box.encrypt("")) == ""


def test_ciphertext_reveals_nothing_of_the_plaintext():
    box = SecretsBox([NEW_KEY])
    token = box.encrypt("hubspot-token-ABCDEF")
    assert "hubspot" not in token
    assert "ABCDEF" not in token
    assert box.encrypt("hubspot-token-ABCDEF") != token  # random IV: equal secrets not linkable


def test_first_key_encrypts_all_keys_decrypt():
    old_token = SecretsBox([OLD_KEY]).encrypt(SECRET)
    rotated_box = SecretsBox([NEW_KEY, OLD_KEY])
    assert rotated_box.decrypt(old_token) == SECRET
    new_token = rotated_box.encrypt(SECRET)
    assert SecretsBox([NEW_KEY]).decrypt(new_token) == SECRET
    with pytest.raises(InvalidSecretToken):
        SecretsBox([OLD_KEY]).decrypt(new_token)


def test_rotate_re_encrypts_with_the_newest_key_so_the_old_key_can_go():
    old_token = SecretsBox([OLD_KEY]).encrypt(SECRET)
    rotated = SecretsBox([NEW_KEY, OLD_KEY]).rotate(old_token)
    assert rotated != old_token
    assert SecretsBox([NEW_KEY]).decrypt(rotated) == SECRET


def test_rotate_of_a_token_no_key_decrypts_fails_clearly():
    foreign = SecretsBox([Fernet.generate_key().decode()]).encrypt(SECRET)
    with pytest.raises(InvalidSecretToken, match="no configured key"):
        SecretsBox([NEW_KEY]).rotate(foreign)


def test_wrong_key_raises_invalid_secret_token_without_leaking_anything():
    token = SecretsBox([OLD_KEY]).encrypt(SECRET)
    with pytest.raises(InvalidSecretToken) as caught:
        SecretsBox([NEW_KEY]).decrypt(token)
    assert SECRET not in str(caught.value)
    assert NEW_KEY not in str(caught.value)
    assert caught.value.__cause__ is None  # cryptography's exception is not chained in logs


@pytest.mark.parametrize("token", ["not-a-token", "", "gAAAAAB-truncated", "tökén", None, 42])
def test_garbage_tokens_raise_invalid_secret_token(token):
    with pytest.raises(InvalidSecretToken):
        SecretsBox([NEW_KEY]).decrypt(token)


def test_tampered_token_is_refused():
    box = SecretsBox([NEW_KEY])
    token = box.encrypt(SECRET)
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(InvalidSecretToken):
        box.decrypt(tampered)


def test_encrypt_wants_text():
    with pytest.raises(TypeError):
        SecretsBox([NEW_KEY]).encrypt(b"bytes")


def test_from_config_value_splits_on_commas_and_whitespace():
    old_token = SecretsBox([OLD_KEY]).encrypt(SECRET)
    box = SecretsBox.from_config_value(f" {NEW_KEY} ,\n  {OLD_KEY},, ")
    assert box.decrypt(old_token) == SECRET
    assert SecretsBox([NEW_KEY]).decrypt(box.encrypt(SECRET)) == SECRET
    assert repr(box) == "<SecretsBox keys=2>"


@pytest.mark.parametrize("value", [None, "", " , ,", "\n"])
def test_no_key_configured_raises_missing_key_error_naming_the_setting(value):
    with pytest.raises(MissingKeyError, match="encryption_keys"):
        SecretsBox.from_config_value(value)


def test_empty_key_list_raises_missing_key_error():
    with pytest.raises(MissingKeyError):
        SecretsBox([])


def test_invalid_key_is_reported_by_position_not_value():
    with pytest.raises(InvalidKeyError, match="#2") as caught:
        SecretsBox([NEW_KEY, "not-a-fernet-key-but-a-password"])
    assert "not-a-fernet-key" not in str(caught.value)


def test_repr_never_shows_keys():
    box = SecretsBox([NEW_KEY])
    assert NEW_KEY not in repr(box)
    assert NEW_KEY not in str(vars(box))


def test_generate_key_makes_usable_keys():
    key = generate_key()
    assert SecretsBox([key]).decrypt(SecretsBox([key]).encrypt("x")) == "x"


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("pat-na1-1234567890abcd", "••••abcd"),
        ("123456789012", "••••9012"),  # exactly 12: last 4 shown
        ("12345678901", "••••"),  # 11: all masked
        ("abc", "••••"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask(secret, expected):
    assert mask(secret) == expected
    assert SecretsBox.mask(secret) == expected


def test_mask_does_not_reveal_length_of_short_secrets():
    assert mask("a") == mask("abcdefghijk")
