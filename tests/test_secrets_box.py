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
