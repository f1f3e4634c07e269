"""One clock convention: UTC, aware in the core, naive in the database.

Odoo stores ``Datetime`` fields as naive UTC; the core computes with aware UTC
datetimes and refuses naive ones, because guessing their zone is how invoices
end up an hour off.  These are the only conversions between the two.
"""

from datetime import datetime, timezone


def to_utc(moment, name="moment"):
    """``moment`` in UTC, truncated to the second; refuses naive datetimes.

    The billing clock ticks in whole seconds (Odoo Datetime fields store none),
    which keeps every second count an exact int.
    """
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def aware(value):
    """A naive UTC value read from the database as an aware datetime (falsy values kept)."""
    return value.replace(tzinfo=timezone.utc) if value else value


def naive(moment):
    """An aware datetime as the naive UTC value the database stores."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def from_unix(seconds):
    """Unix seconds as a naive UTC datetime (the database's form)."""
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
