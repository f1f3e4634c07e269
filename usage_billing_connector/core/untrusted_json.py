"""Decoding and checking JSON that comes from outside (request bodies, files).

Everything that reaches PostgreSQL must be storable: text columns and ``jsonb``
refuse the NUL character, and a lone UTF-16 surrogate (``"\\ud800"``, which
JSON allows to write) cannot even be encoded as UTF-8.  Nesting is bounded so
that neither Python's recursion nor PostgreSQL's stack depth is the limit that
answers.  A body is UTF-8 (RFC 8259 §8.1); a UTF-8 byte order mark is ignored,
other encodings are refused.  ``NaN`` and ``Infinity`` are not JSON and are
refused too (Python's decoder would accept them).
"""

import json
from decimal import Decimal

#: Deepest nesting of a whole request body (an event sits at depth 3).
MAX_BODY_DEPTH = 64

_BOM = b"\xef\xbb\xbf"


class UntrustedJsonError(ValueError):
    """The input cannot be used; ``code`` is the machine-readable reason."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def decode(body, max_depth=MAX_BODY_DEPTH):
    """Parse UTF-8 JSON bytes; numbers with a fraction or exponent become ``Decimal``."""
    if isinstance(body, bytes | bytearray):
        if body.startswith(_BOM):
            body = body[len(_BOM) :]
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UntrustedJsonError("invalid_json", f"Body is not UTF-8: {exc}") from None
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError:
        raise UntrustedJsonError(
            "invalid_json", f"JSON is nested deeper than {max_depth} levels."
        ) from None
    except ValueError as exc:
        raise UntrustedJsonError("invalid_json", f"Body is not valid JSON: {exc}") from None
    check_depth(data, max_depth, "invalid_json", "JSON")
    return data


def text_problem(text):
    """Why ``text`` cannot be stored, or ``None`` when it can."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate"
    return None


def check_text(text, name):
    """Raise ``invalid_characters`` when ``text`` (a str) cannot be stored."""
    problem = text_problem(text)
    if problem:
        raise UntrustedJsonError("invalid_characters", f"{name} {problem}.")
    return text


def check_depth(value, max_depth, code, name):
    """Raise ``code`` when containers nest deeper than ``max_depth`` (iterative walk).

    Only containers are pushed: a request body is mostly leaves, walked per request.
    """
    if not isinstance(value, dict | list):
        return
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise UntrustedJsonError(code, f"{name} is nested deeper than {max_depth} levels.")
        depth += 1
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth))


def check_tree_text(value, name):
    """Raise ``invalid_characters`` when any key or string inside ``value`` cannot be stored."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item, name)
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(key, f"{name} key")
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
