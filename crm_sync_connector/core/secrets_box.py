"""Encryption at rest of CRM credentials (tokens, client secrets, webhook secrets).

The keys live in the Odoo configuration file (``[crm_sync] encryption_keys``),
never in the database, so a database dump alone does not reveal credentials.
``MultiFernet`` encrypts with the first key and decrypts with any of them: a key
is rotated by prepending a new one, re-encrypting every stored value with
``rotate`` and finally dropping the old key.

Errors never contain key material or plaintext.
"""

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MASK = "••••"
#: Secrets shorter than this are masked entirely: showing 4 of 8 chars halves them.
MASK_MIN_REVEAL_LENGTH = 12
_KEY_SEPARATORS = re.compile(r"[,\s]+")


class MissingKeyError(RuntimeError):
    """No encryption key is configured."""


class InvalidKeyError(ValueError):
    """A configured encryption key is not a Fernet key."""


class InvalidSecretToken(ValueError):
    """A stored value cannot be decrypted with any configured key."""


def mask(secret):
    """What the UI may show of a stored secret: ``"••••abcd"`` or ``"••••"``.

    The last 4 characters only for secrets of 12+ characters; the mask has a fixed
    length so it does not reveal the secret's length.
    """
    if not secret:
        return ""
    if len(secret) >= MASK_MIN_REVEAL_LENGTH:
        return MASK + secret[-4:]
    return MASK


class SecretsBox:
    """Encrypts with the first key, decrypts with any key."""

    def __init__(self, keys):
        keys = [key.strip() for key in (keys or []) if key and key.strip()]
        if not keys:
            raise MissingKeyError(
                "No encryption key configured: add 'encryption_keys = <Fernet key>' to the "
                "[crm_sync] section of the Odoo configuration file."
            )
        self._fernet = MultiFernet([_fernet(key, index) for index, key in enumerate(keys, 1)])
        self._key_count = len(keys)

    @classmethod
    def from_config_value(cls, value):
        """Build from the configuration value ``"newest_key,older_key,..."``.

        Commas and whitespace (including newlines of a multi-line value) separate keys.
        """
        return cls(_KEY_SEPARATORS.split(value or ""))

    def __repr__(self):
        return f"<SecretsBox keys={self._key_count}>"

    def encrypt(self, plaintext):
        """Encrypt a text; each call gives a different token (random IV)."""
        if not isinstance(plaintext, str):
            raise TypeError("SecretsBox.encrypt expects a str")
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token):
        """Decrypt a token made with any configured key."""
        try:
            return self._fernet.decrypt(_token_bytes(token)).decode()
        except InvalidToken:
            raise InvalidSecretToken(
                "Stored secret cannot be decrypted with the configured keys "
                "(wrong or removed key, or corrupted value)."
            ) from None

    def rotate(self, token):
        """Re-encrypt ``token`` with the first (newest) key."""
        try:
            return self._fernet.rotate(_token_bytes(token)).decode("ascii")
        except InvalidToken:
            raise InvalidSecretToken(
                "Stored secret cannot be re-encrypted: no configured key decrypts it."
            ) from None

    mask = staticmethod(mask)


def _fernet(key, index):
    try:
        return Fernet(key.encode())
    except ValueError:
        # The library message is fine, but the key itself must not end up in a log.
        raise InvalidKeyError(
            f"Encryption key #{index} in the configuration is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from None


def _token_bytes(token):
    if isinstance(token, bytes):
        return token
    if not isinstance(token, str):
        raise InvalidSecretToken("Stored secret is not a text token.")
    try:
        return token.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidSecretToken("Stored secret is not a Fernet token.") from None


def generate_key():
    """A new Fernet key, for the configuration file."""
    return Fernet.generate_key().decode("ascii")
