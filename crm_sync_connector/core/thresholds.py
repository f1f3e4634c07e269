"""Usage threshold crossing: which alerts a tenant's current usage deserves.

A threshold is a percentage of a metric's included allowance (default 80 and
100).  Each is fired at most once per tenant, metric, billing period and
backend; the database enforces "once" (unique constraint on the alert log), this
module only says which thresholds the usage has reached.
"""

from decimal import Decimal, InvalidOperation

DEFAULT_THRESHOLDS = (80, 100)


def parse_thresholds(value):
    """``"80, 100"`` -> ``(80, 100)``: sorted, unique, positive integers.

    Empty means the defaults; anything else that is not a positive number raises.
    """
    if value is None or not str(value).strip():
        return DEFAULT_THRESHOLDS
    result = set()
    for part in str(value).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            number = Decimal(part)
        except InvalidOperation:
            raise ValueError(f"threshold {part!r} is not a number") from None
        if number <= 0 or number != number.to_integral_value():
            raise ValueError(f"threshold {part!r} must be a positive whole percentage")
        result.add(int(number))
    return tuple(sorted(result)) or DEFAULT_THRESHOLDS


def reached_thresholds(used, included, thresholds=DEFAULT_THRESHOLDS):
    """Thresholds (percent) that ``used`` reaches: ``used >= included * t / 100``.

    No allowance (``included`` empty or 0) means no threshold can be reached.
    """
    if not included:
        return ()
    used = Decimal(str(used or 0))
    included = Decimal(str(included))
    return tuple(t for t in sorted(thresholds) if used * 100 >= included * t)


def new_crossings(used, included, thresholds, already_fired):
    """Reached thresholds not in ``already_fired`` (what to alert about now)."""
    fired = set(already_fired or ())
    return tuple(t for t in reached_thresholds(used, included, thresholds) if t not in fired)


def alert_text(tenant, metric, threshold, used, included):
    """Subject and body of an alert (plain text, the CRM renders it)."""
    subject = f"{tenant}: {metric} usage reached {threshold}% of the allowance"
    body = (
        f"Tenant {tenant} used {used} of {included} included {metric} in the current "
        f"billing period ({threshold}% threshold)."
    )
    return subject, body


def credit_alert_text(tenant, balance, threshold, currency):
    """Subject and body of the low prepaid credit alert (``credits.low_balance``)."""
    subject = f"{tenant}: prepaid credit below {threshold} {currency}"
    body = (
        f"Tenant {tenant} has {balance} {currency} of prepaid credit left, below the "
        f"{threshold} {currency} threshold: time to offer a top-up."
    )
    return subject, body
