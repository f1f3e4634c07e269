"""Encryption at rest of integration secrets (API key secrets, CRM credentials).

Keys come from the Odoo configuration file, never from the database: a
``MultiFernet`` encrypts with the first key and decrypts with any, so a key is
rotated by prepending a new one and re-encrypting (``rotate``).
"""

import secrets as _secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class MissingKeyError(RuntimeError):
    """No encryption key is configured."""


class InvalidSecretToken(ValueError):
    """A stored secret cannot be decrypted with any configured key."""


class SecretsBox:
    def __init__(self, keys):
        keys = [key.strip() for key in keys if key and key.strip()]
        if not keys:
            raise MissingKeyError(
                "No encryption key configured: add 'encryption_keys = <Fernet key>' to the "
                "addon's section of the Odoo configuration file."
            )
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise MissingKeyError(f"Invalid encryption key in configuration: {exc}") from None

    @classmethod
    def from_config_value(cls, value):
        return cls((value or "").split(","))

    def encrypt(self, plaintext):
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token):
        return self._apply(self._fernet.decrypt, token)

    def rotate(self, token):
        """Re-encrypt ``token`` with the first (newest) key."""
        return self._apply(self._fernet.rotate, token)

    @staticmethod
    def _apply(operation, token):
        try:
            return operation(token.encode()).decode()
        except InvalidToken:
            raise InvalidSecretToken(
                "Stored secret cannot be decrypted with the configured keys."
            ) from None


def generate_secret(nbytes=32):
    """A new random secret, URL-safe, shown to the user once."""
    return _secrets.token_urlsafe(nbytes)


def mask(secret):
    """What the UI may show of a secret after creation."""
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) >= 12 else "••••"
