"""What the product platform can ask: parameters, limits and the shape of the answers.

Plain Python: the controller authenticates, the models gather figures, this
module validates query parameters and turns figures into the wire format
(quantities and amounts as decimal strings, instants as RFC 3339 UTC).
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from .payload import parse_timestamp
from .untrusted_json import UntrustedJsonError, check_text

#: The bytes a GET request is signed over, after ``"<t>."``: ``GET <path?query>``.
GET_SIGNATURE_PREFIX = "GET "
DEFAULT_PAGE = 10
MAX_PAGE = 100
OK, SOFT_EXCEEDED, HARD_EXCEEDED = "ok", "soft_exceeded", "hard_exceeded"
_CURSOR_RE = re.compile(r"^[\x20-\x7e]{1,256}\Z")


class QueryError(ValueError):
    """A query parameter that cannot be used; answered ``400`` with ``code``."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def signed_get(request_target):
    """The signed bytes of a GET: ``GET <path?query>``, exactly as sent."""
    return (GET_SIGNATURE_PREFIX + request_target).encode()


@dataclass(frozen=True)
class PeriodQuery:
    """``current``, ``previous``, or the period containing ``instant``."""

    which: str  # "current" | "previous" | "instant"
    instant: datetime | None = None


def parse_period(value):
    """``?period=`` of ``/usage``: ``current`` (default), ``previous`` or an RFC 3339 instant."""
    if value in (None, "", "current"):
        return PeriodQuery("current")
    if value == "previous":
        return PeriodQuery("previous")
    try:
        check_text(value, "period")
        return PeriodQuery("instant", parse_timestamp(value))
    except (ValueError, UntrustedJsonError):
        raise QueryError(
            "invalid_period", "period must be current, previous or an RFC 3339 instant."
        ) from None


def parse_page(limit, starting_after):
    """``?limit=&starting_after=`` of ``/invoices``: page size and the cursor (a number)."""
    if limit in (None, ""):
        size = DEFAULT_PAGE
    elif not limit.isascii() or not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
        raise QueryError("invalid_limit", f"limit must be an integer from 1 to {MAX_PAGE}.")
    else:
        size = int(limit)
    if starting_after in (None, ""):
        return size, None
    if not _CURSOR_RE.match(starting_after):
        raise QueryError("invalid_cursor", "starting_after must be an invoice number.")
    return size, starting_after


def limit_state(used, soft_limit, hard_limit):
    """``ok``, ``soft_exceeded`` or ``hard_exceeded``: a limit is exceeded once reached."""
    if hard_limit and used >= hard_limit:
        return HARD_EXCEEDED
    if soft_limit and used >= soft_limit:
        return SOFT_EXCEEDED
    return OK


def decimal_text(value):
    """A quantity or an amount on the wire: an exact decimal string, no exponent."""
    if value is None:
        return None
    value = Decimal(value) if not isinstance(value, Decimal) else value
    text = format(value.normalize(), "f") if value else "0"
    return text


def money_text(value, decimals):
    """An amount rounded with its currency, as a decimal string with the currency's places."""
    return format(Decimal(value).quantize(Decimal(1).scaleb(-decimals)), "f")


def instant_text(moment):
    """RFC 3339 UTC with a ``Z`` (naive values are UTC, as Odoo stores them)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric_answer(metric, used, included, soft_limit, hard_limit, amount, decimals):
    """One entry of ``/usage``'s ``metrics``."""
    remaining = max(included - used, Decimal(0)) if included else None
    return {
        "metric": metric["code"],
        "name": metric["name"],
        "aggregation": metric["aggregation"],
        "used": decimal_text(used),
        "included": decimal_text(included or Decimal(0)),
        "remaining": decimal_text(remaining),
        "unit": metric["unit"],
        "amount": money_text(amount, decimals),
        "soft_limit": decimal_text(soft_limit) if soft_limit else None,
        "hard_limit": decimal_text(hard_limit) if hard_limit else None,
        "limit_state": limit_state(used, soft_limit, hard_limit),
    }


def entitlement_answer(code, used, soft_limit, hard_limit):
    """One entry of ``/entitlements``: block at the hard limit; ``remaining`` up to it."""
    state = limit_state(used, soft_limit, hard_limit)
    remaining = max(hard_limit - used, Decimal(0)) if hard_limit else None
    return {
        "metric": code,
        "allowed": state != HARD_EXCEEDED,
        "limit_state": state,
        "remaining": decimal_text(remaining),
    }


def credits_answer(balance, currency, expiries, decimals):
    """``credits`` of ``/usage``: the balance and ``[(date, amount)]`` upcoming expiries."""
    return {
        "balance": money_text(balance, decimals),
        "currency": currency,
        "expires": [
            {"date": day.isoformat(), "amount": money_text(amount, decimals)}
            for day, amount in expiries
        ],
    }
