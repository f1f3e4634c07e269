"""Statement lines of one billing period: fee, usage, commitment, late-usage true-ups.

Amounts are rated with :mod:`pricing` and rounded once per line with the
currency's decimals.  Everything here is a pure function of the period, the
subscription history and aggregated quantities, so the Odoo shell only gathers
those and stores the result.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from . import credits, periods, pricing
from .numbers import to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Line:
    kind: str  # "fee" | "fee_adjustment" | "usage" | "late_usage" | "commitment"
    description: str
    amount: Decimal  # rounded with the currency
    quantity: Decimal = ZERO
    included: Decimal = ZERO
    billable: Decimal = ZERO
    unit_price: Decimal | None = None
    breakdown: str = ""
    metric: object = None  # the caller's metric key
    period: periods.Period | None = None  # the period this line bills
    plan: object = None  # the caller's plan key, when not the subscription's current plan


def _day(moment):
    return moment.strftime("%Y-%m-%d")


def _period_label(period):
    # Periods are half-open: show the last day billed, not the next period's first.
    last_day = period.end - timedelta(seconds=1)
    return f"{_day(period.start)} – {_day(last_day)}"


def _segment_label(segment, period):
    part = periods.Period(segment.start, segment.end)
    label = _period_label(part)
    if segment.fraction == 1:
        return label
    return f"{label}, {segment.fraction * 100:.2f}% of {_period_label(period)}"


def fee_segment_lines(plan_name, period, changes, decimals):
    """One line per stretch of the period with constant seats and price (by the second)."""
    lines = []
    for segment in periods.proration_segments(period, periods.not_in_force_before(period, changes)):
        if not segment.active or not segment.seats:
            continue
        amount = pricing.round_amount(segment.amount, decimals)
        description = (
            f"{plan_name}: {segment.seats} seat(s) × {segment.unit_price} "
            f"({_segment_label(segment, period)})"
        )
        lines.append(
            Line(
                "fee",
                description,
                amount,
                quantity=Decimal(segment.seats),
                billable=Decimal(segment.seats),
                unit_price=to_decimal(segment.unit_price),
                period=periods.Period(segment.start, segment.end),
            )
        )
    return lines


def fee_lines(plan_name, timing, period, next_period, changes, decimals, billed_in_advance):
    """Recurring fee lines of the statement closing ``period``.

    ``in_arrears``: the fee actually owed for ``period``, prorated.
    ``in_advance``: the fee for ``next_period`` at the state in force at the end of
    ``period``, plus an adjustment for ``period`` = what it actually cost minus
    ``billed_in_advance`` for it (0 for the first period, which was not billed
    ahead).
    """
    actual = fee_segment_lines(plan_name, period, changes, decimals)
    if timing == "in_arrears":
        return actual
    lines = []
    adjustment = sum((line.amount for line in actual), ZERO) - billed_in_advance
    if adjustment:
        description = (
            f"{plan_name}: adjustment for {_period_label(period)} "
            f"(owed {sum((line.amount for line in actual), ZERO)}, "
            f"billed in advance {billed_in_advance})"
        )
        breakdown = "\n".join(line.description for line in actual)
        lines.append(
            Line("fee_adjustment", description, adjustment, breakdown=breakdown, period=period)
        )
    ahead = [_state_at_end(changes, period)]
    for line in fee_segment_lines(plan_name, next_period, ahead, decimals):
        lines.append(
            Line(
                "fee",
                line.description + " (in advance)",
                line.amount,
                quantity=line.quantity,
                billable=line.billable,
                unit_price=line.unit_price,
                period=next_period,
            )
        )
    return lines


def _state_at_end(changes, period):
    in_force = [c for c in changes if periods.StateChange(*c).effective_at < period.end]
    last = periods.StateChange(*in_force[-1])
    return periods.StateChange(period.end, last.seats, last.unit_price, last.active)


def usage_line(metric, metric_label, charge, quantity, decimals, period):
    rating = pricing.rate(charge, quantity)
    amount = pricing.round_amount(rating.amount, decimals)
    return Line(
        "usage",
        f"{metric_label}: {_quantity(rating.quantity)} ({_period_label(period)})",
        amount,
        quantity=rating.quantity,
        included=rating.included,
        billable=rating.billable,
        unit_price=_single_unit_price(charge, rating),
        breakdown=rating.describe(decimals),
        metric=metric,
        period=period,
    )


def late_usage_line(
    metric,
    metric_label,
    charge,
    new_quantity,
    billed_amount,
    decimals,
    period,
    plan=None,
    what="late usage",
):
    """True-up of a period already invoiced: rate its new total, charge the difference.

    Rating the late events on their own would be wrong for ``max``/``unique``
    metrics and for tiers; re-rating the period's whole quantity is exact.  The
    same arithmetic corrects a period with another plan version (a negative
    difference is a credit).  ``plan`` is the plan ``charge`` belongs to;
    ``what`` names the true-up in the description.
    """
    rating = pricing.rate(charge, new_quantity)
    owed = pricing.round_amount(rating.amount, decimals)
    amount = owed - billed_amount
    return Line(
        "late_usage",
        f"{metric_label}: {what} for {_period_label(period)} "
        f"(period total now {_quantity(rating.quantity)}, owed {owed}, billed {billed_amount})",
        amount,
        quantity=rating.quantity,
        included=rating.included,
        billable=rating.billable,
        breakdown=rating.describe(decimals),
        metric=metric,
        period=period,
        plan=plan,
    )


def period_commitment(period, changes, decimals):
    """The minimum spend of ``period`` and how it adds up: ``(amount, breakdown)``.

    ``changes`` are the subscription's time-ordered ``(effective_at, committed,
    in_force)``: from each one on, a commitment of ``committed`` per period
    applies while ``in_force``.  It is prorated like the recurring fee, by the
    second (:func:`periods.proration_segments`): each stretch counts for its
    share of the period, nothing is committed before the first change (the
    subscription had not started), and the sum is rounded once.  The breakdown
    lists the stretches, empty when one commitment covers the whole period.
    """
    states = [
        periods.StateChange(at, 1, to_decimal(committed), in_force)
        for at, committed, in_force in changes
    ]
    if not states:
        return ZERO, ""
    segments = [
        segment
        for segment in periods.proration_segments(
            period, periods.not_in_force_before(period, states)
        )
        if segment.active and segment.unit_price
    ]
    amount = pricing.round_amount(sum((segment.amount for segment in segments), ZERO), decimals)
    if len(segments) == 1 and segments[0].fraction == 1:
        return amount, ""
    breakdown = "\n".join(
        f"Committed {segment.unit_price} for {_segment_label(segment, period)}"
        for segment in segments
    )
    return amount, breakdown


def commitment_line(committed, lines, period, breakdown="", plan=None):
    """True-up to the minimum spend of ``period``, or None when usage met it.

    Counts the period's own usage lines as rated, per-charge minimums included
    (they are part of what the customer was charged for usage); fees and late
    usage of earlier periods do not count towards this period's commitment.
    ``committed`` is the period's (prorated) commitment, ``breakdown`` how it
    adds up (:func:`period_commitment`); ``plan`` the caller's key of the plan
    whose commitment product invoices the true-up.
    """
    charged = sum((line.amount for line in lines if line.kind == "usage"), ZERO)
    shortfall = credits.commitment_shortfall(committed, charged)
    if not shortfall:
        return None
    prorated = ", prorated" if breakdown else ""
    return Line(
        "commitment",
        f"Commitment true-up for {_period_label(period)} "
        f"(committed {to_decimal(committed)}{prorated}, usage charged {charged})",
        shortfall,
        quantity=Decimal(1),
        billable=Decimal(1),
        unit_price=shortfall,
        breakdown=breakdown,
        period=period,
        plan=plan,
    )


def commitment_adjustment_line(committed, usage_charged, trued_up, period, plan=None):
    """Late usage of a period whose commitment was trued up: the true-up as it stands now.

    ``usage_charged`` is the period's usage as charged now (late true-ups
    included), ``trued_up`` what its commitment lines charged so far; the line
    brings the true-up to ``max(0, committed - usage_charged)``: late usage is
    not charged on top of a commitment it only fills.  ``committed`` is the
    commitment the period was stated with.  None when nothing changes.
    """
    owed = credits.commitment_shortfall(committed, usage_charged)
    difference = owed - trued_up
    if not difference:
        return None
    return Line(
        "commitment",
        f"Commitment true-up for {_period_label(period)} after late usage "
        f"(committed {to_decimal(committed)}, usage charged {usage_charged}, "
        f"trued up before {trued_up})",
        difference,
        quantity=Decimal(1),
        billable=Decimal(1),
        unit_price=difference,
        period=period,
        plan=plan,
    )


def _single_unit_price(charge, rating):
    if charge.pricing_model == pricing.PER_UNIT:
        return to_decimal(charge.unit_price)
    if charge.pricing_model == pricing.VOLUME and rating.breakdown:
        return rating.breakdown[0].unit_price
    return None


def _quantity(value):
    text = format(value.normalize(), "f") if value else "0"
    whole, _, fraction = text.partition(".")
    whole = f"{int(whole):,}"
    return f"{whole}.{fraction}" if fraction else whole


def invoice_figures(amount, billable, unit_price, currency_decimals, price_digits, quantity_digits):
    """Invoice ``(quantity, price_unit)`` that reproduce ``line.amount`` to the cent.

    Odoo rounds ``quantity × price_unit`` with the currency, and keeps
    ``price_unit`` and ``quantity`` to their decimal precisions.  When the
    billable quantity and a unit price fit those precisions exactly, they are
    shown as such; otherwise the line is invoiced as 1 × amount and the
    description carries the detail.  Either way the invoice equals the statement.
    """
    quantity, price = billable, unit_price
    if quantity and price is not None:
        exact_qty = quantity == quantity.quantize(Decimal(1).scaleb(-quantity_digits))
        exact_price = price == price.quantize(Decimal(1).scaleb(-price_digits))
        if exact_qty and exact_price:
            if pricing.round_amount(quantity * price, currency_decimals) == amount:
                return quantity, price
    return Decimal(1), amount
