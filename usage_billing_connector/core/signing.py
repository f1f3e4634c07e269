"""Stripe-style request signatures.

``X-Usage-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` where each hex is
HMAC-SHA256 over ``b"<t>." + raw body`` keyed with a secret.  Several ``v1``
entries let a client sign with an old and a new secret while a key is rotated.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

SCHEME = "v1"
#: A v1 signature is the lowercase hex of a SHA-256 digest; anything else cannot
#: match and is ignored (``hmac.compare_digest`` refuses non-ASCII text).
_HEX_DIGEST_RE = re.compile(r"^[0-9a-f]{64}\Z")


class SignatureError(Exception):
    """The request is not authentic; ``code`` is the machine-readable reason."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple


def _as_bytes(value):
    return value.encode() if isinstance(value, str) else value


def compute(secret, timestamp, body):
    """Hex HMAC-SHA256 of ``<timestamp>.<body>``."""
    message = str(int(timestamp)).encode() + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign_header(secret, timestamp, body):
    """The header value a client sends for ``body`` at ``timestamp``."""
    return f"t={int(timestamp)},{SCHEME}={compute(secret, timestamp, body)}"


def parse_header(header):
    """Split a signature header; unknown schemes are ignored, like Stripe does."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isascii() or not value.isdigit():
                message = "Signature timestamp is not an integer."
                raise SignatureError("invalid_signature", message)
            timestamp = int(value)
        elif key == SCHEME and _HEX_DIGEST_RE.match(value.strip().lower()):
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise SignatureError(
            "invalid_signature", "X-Usage-Signature must look like t=<unix seconds>,v1=<hex>."
        )
    return ParsedSignature(timestamp, tuple(signatures))


def verify(header, body, secrets, now, tolerance):
    """Accept when the timestamp is fresh and any signature matches any secret.

    Every candidate is compared in constant time; the loop does not stop at the
    first match so timing does not tell which secret matched.
    """
    parsed = parse_header(header)
    if abs(now - parsed.timestamp) > tolerance:
        raise SignatureError(
            "stale_signature", f"Signature timestamp is more than {tolerance} s away from now."
        )
    matched = False
    for secret in secrets:
        expected = compute(secret, parsed.timestamp, body)
        for candidate in parsed.signatures:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("invalid_signature", "No signature matches this key.")
    return parsed
