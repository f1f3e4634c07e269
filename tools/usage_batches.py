"""How the reference client turns events into request bodies: batches, exact bytes."""

import itertools
import json
from datetime import datetime
from decimal import Decimal


def chunks(iterable, size):
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _json_default(value):
    """Quantities may be Decimals (sent as exact decimal strings) and timestamps datetimes."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("timestamp datetimes must be timezone-aware")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_body(events):
    """The exact bytes that are signed and sent (compact, UTF-8).

    A lone surrogate (JSON may spell one, UTF-8 cannot) is sent as its ``\\u``
    escape, so the server rejects that one event instead of the batch.
    """
    text = json.dumps(
        {"events": events},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(
            {"events": events}, separators=(",", ":"), allow_nan=False, default=_json_default
        ).encode()
