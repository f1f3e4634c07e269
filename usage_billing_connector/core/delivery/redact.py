"""Remove credentials from text before it is logged or stored in a delivery log.

Two layers, because neither alone is enough:

* the *known* secrets of a backend (token, client secret, refresh token,
  current access token) are replaced wherever they appear, also URL-encoded
  (form bodies, query strings);
* credential-shaped *patterns* are replaced even when the value is unknown
  (a fresh access token in an error body, a token echoed by a proxy):
  ``Bearer <token>``, ``Authorization: Basic <x>``, ``access_token=<x>``,
  ``"access_token": "<x>"`` and the same for ``refresh_token``,
  ``client_secret``, ``id_token`` and ``password``.

Known secrets shorter than ``MIN_SECRET_LENGTH`` are ignored: replacing every
``"ab"`` of a log line would destroy it, and such a value is no real secret.
"""

import re
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 4

_SENSITIVE_KEYS = r"access_token|refresh_token|client_secret|id_token|password"
_PATTERNS = (
    # "access_token": "value"  /  'access_token': 'value'  (JSON, Python reprs)
    (
        re.compile(rf"""(["'](?:{_SENSITIVE_KEYS})["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""", re.I),
        rf"\1\2{REDACTED}\2",
    ),
    # access_token=value  (query strings, form bodies, log lines)
    (re.compile(rf"""\b({_SENSITIVE_KEYS})=[^&\s"',;]+""", re.I), rf"\1={REDACTED}"),
    # Authorization: Basic dXNlcjpwYXNz  (the scheme word alone is too common to match)
    (
        re.compile(r"""(authorization["']?\s*[:=]\s*["']?\s*basic\s+)[^\s"',;]+""", re.I),
        rf"\1{REDACTED}",
    ),
    # Bearer <token> anywhere; 8+ chars so that "the bearer of" stays readable
    (re.compile(r"""\b(bearer\s+)[A-Za-z0-9\-._~+/!=%]{8,}""", re.I), rf"\1{REDACTED}"),
)


def _variants(secrets):
    """Each secret as written and URL-encoded, longest first so overlaps are fully hidden."""
    found = set()
    for secret in secrets or ():
        if not secret or len(str(secret)) < MIN_SECRET_LENGTH:
            continue
        secret = str(secret)
        found.update({secret, quote(secret, safe=""), quote_plus(secret)})
    return sorted(found, key=len, reverse=True)


def redact(text, secrets=()):
    """``text`` with every known secret and every credential pattern replaced."""
    if text is None:
        return None
    text = str(text)
    for secret in _variants(secrets):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
