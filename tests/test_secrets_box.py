import pytest
from cryptography.fernet import Fernet

from usage_billing_connector.core.secrets_box import (
    InvalidSecretToken,
    MissingKeyError,
    SecretsBox,
    mask,
)


def test_round_trip_and_no_plaintext_in_ciphertext():
    box = SecretsBox([Fernet.generate_key().decode()])
    token = box.encrypt("my-very-secret-value")
    assert "my-very-secret-value" not in token
    assert box.decrypt(token) == "my-very-secret-value"


def test_rotation_old_key_still_decrypts_and_rotate_moves_to_new_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretsBox([old]).encrypt("s")
    rotated_box = SecretsBox.from_config_value(f"{new},{old}")
    assert rotated_box.decrypt(token) == "s"
    assert SecretsBox([new]).decrypt(rotated_box.rotate(token)) == "s"


def test_wrong_key_and_missing_key_fail_clearly():
    token = SecretsBox([Fernet.generate_key().decode()]).encrypt("s")
    with pytest.raises(InvalidSecretToken):
        SecretsBox([Fernet.generate_key().decode()]).decrypt(token)
    with pytest.raises(MissingKeyError):
        SecretsBox.from_config_value("")
    with pytest.raises(MissingKeyError):
        SecretsBox(["not-a-fernet-key"])


def test_mask_shows_at_most_the_last_four_characters():
    assert mask("abcdefghijkl") == "••••ijkl"
    assert mask("short") == "••••"
    assert mask("") == ""


# Cases moved from the former crm_sync_connector duplicate of this module.

SECRET = "sf-client-secret-Ω-8f3a9c"


def test_round_trip_including_non_ascii_and_empty():
    box = SecretsBox([Fernet.generate_key().decode()])
    assert box.decrypt(box.encrypt(SECRET)) == SECRET
    assert box.decrypt(box.encrypt("")) == ""


def test_equal_secrets_are_not_linkable():
    box = SecretsBox([Fernet.generate_key().decode()])
    assert box.encrypt("hubspot-token-ABCDEF") != box.encrypt("hubspot-token-ABCDEF")


def test_first_key_encrypts_so_the_old_key_alone_cannot_read_new_tokens():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    new_token = SecretsBox([new, old]).encrypt(SECRET)
    assert SecretsBox([new]).decrypt(new_token) == SECRET
    with pytest.raises(InvalidSecretToken):
        SecretsBox([old]).decrypt(new_token)


def test_wrong_key_error_leaks_neither_secret_nor_key():
    key = Fernet.generate_key().decode()
    token = SecretsBox([Fernet.generate_key().decode()]).encrypt(SECRET)
    with pytest.raises(InvalidSecretToken) as caught:
        SecretsBox([key]).decrypt(token)
    assert SECRET not in str(caught.value)
    assert key not in str(caught.value)


def test_tampered_token_is_refused():
    box = SecretsBox([Fernet.generate_key().decode()])
    token = box.encrypt(SECRET)
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(InvalidSecretToken):
        box.decrypt(tampered)
