"""Prepaid credits and commitments: which credit pays what, and the commitment true-up.

Plain Python (Decimal): the Odoo side reads the tenant's available grants under
a row lock, calls :func:`allocate`, and writes the result with conditional
updates (``remaining >= amount``), so the arithmetic here never has to be
trusted for safety, only for the order.

Order of consumption (the contract the README documents):

1. the credit expiring soonest first (no expiry: last),
2. then the lowest ``priority`` number (like a sequence: 1 before 10),
3. then the oldest grant (lowest id) - a stable, reproducible order.

Amounts are already rounded with the currency (statement lines are); the
allocation only moves whole cents, so nothing is rounded here.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .numbers import to_decimal

ZERO = Decimal(0)

#: Statement line kinds paid from credits; fees only when the company says so.
USAGE_KINDS = ("usage", "late_usage", "commitment")
FEE_KINDS = ("fee", "fee_adjustment")


class CreditError(ValueError):
    """An allocation asked for something impossible (a negative amount)."""


@dataclass(frozen=True)
class Grant:
    """One grant as the allocation sees it."""

    id: int
    remaining: Decimal
    expiry: date | None = None
    priority: int = 10

    def sort_key(self):
        # date.max sorts "never expires" after every dated credit.
        return (self.expiry or date.max, self.priority, self.id)


def eligible_amount(lines, include_fees):
    """What credits may pay of a statement: its usage (and fee) lines, never below 0.

    ``lines`` are ``(kind, amount)``; a negative adjustment lowers what is
    covered, since the customer is invoiced the net.
    """
    kinds = USAGE_KINDS + (FEE_KINDS if include_fees else ())
    total = sum((to_decimal(amount) for kind, amount in lines if kind in kinds), ZERO)
    return max(total, ZERO)


def is_available(grant, on_day):
    """A grant can pay on ``on_day`` when it has something left and has not expired."""
    return grant.remaining > 0 and (grant.expiry is None or grant.expiry >= on_day)


def allocate(amount, grants, on_day):
    """``[(grant id, amount)]`` paying up to ``amount`` from ``grants``, in consumption order.

    Never takes more than a grant's ``remaining`` nor more than ``amount`` in
    all; grants expired on ``on_day`` or empty are skipped.  The sum of the
    result is ``min(amount, available)``.
    """
    amount = to_decimal(amount)
    if amount < 0:
        raise CreditError(f"cannot allocate a negative amount: {amount}")
    allocation = []
    left = amount
    for grant in sorted(grants, key=Grant.sort_key):
        if left <= 0:
            break
        if not is_available(grant, on_day):
            continue
        take = min(grant.remaining, left)
        allocation.append((grant.id, take))
        left -= take
    return allocation


def balance(grants, on_day):
    """What the tenant can still spend on ``on_day``."""
    return sum((g.remaining for g in grants if is_available(g, on_day)), ZERO)


def upcoming_expiries(grants, on_day, limit=5):
    """``[(expiry date, amount)]`` of the dated credits still available, soonest first."""
    by_day = {}
    for grant in grants:
        if grant.expiry is not None and is_available(grant, on_day):
            by_day[grant.expiry] = by_day.get(grant.expiry, ZERO) + grant.remaining
    return sorted(by_day.items())[:limit]


NOTIFY, RESET = "notify", "reset"


def low_balance_transition(threshold, balance, notified):
    """``NOTIFY`` when the balance is below ``threshold`` and was not yet notified,
    ``RESET`` when it is back at or above it after a notice, else ``None``:
    one notice per crossing, however many statements consume below the line."""
    threshold = to_decimal(threshold or 0)
    if not threshold:
        return RESET if notified else None
    below = to_decimal(balance) < threshold
    if below and not notified:
        return NOTIFY
    if not below and notified:
        return RESET
    return None


def commitment_shortfall(committed, charged):
    """The true-up that lifts ``charged`` to the ``committed`` minimum spend (0 if met)."""
    committed, charged = to_decimal(committed), to_decimal(charged)
    if committed < 0:
        raise CreditError(f"a commitment cannot be negative: {committed}")
    return max(committed - charged, ZERO)
