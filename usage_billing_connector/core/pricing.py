"""Rating: turn an aggregated usage quantity into an (unrounded) money amount.

Plain Python on purpose: the Odoo models only gather the charge configuration
and the aggregated quantity, call :func:`rate`, and round the result once with
:func:`round_amount` using the invoice currency's decimal places.  Keeping the
arithmetic here makes it testable without a database and guarantees that every
invoice line is priced by exactly the same code.

Money and quantities are :class:`~decimal.Decimal` everywhere (``numbers``
converts what Odoo fields hand over): an invoice must add up to the cent.

Order of operations (the contract the invoices rely on):

1. ``included = min(quantity, included_quantity)``; ``billable = quantity - included``.
   The allowance is taken *before* any tier, so tier boundaries count billable
   units starting at 0.
2. The pricing model prices the billable units (see :func:`rate`).
3. A ``minimum_amount`` lifts the amount to the minimum.  The minimum applies per
   rated period, even when nothing was used (a quantity of 0 still owes it).
4. The caller rounds the final line amount once, with :func:`round_amount`.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from .numbers import NumberError, to_decimal, to_non_negative

PER_UNIT = "per_unit"
GRADUATED = "graduated"
VOLUME = "volume"
PACKAGE = "package"
PRICING_MODELS = (PER_UNIT, GRADUATED, VOLUME, PACKAGE)
TIERED_MODELS = (GRADUATED, VOLUME)

ZERO = Decimal(0)

# Enough significant digits that quantity x price never gets rounded by the
# Decimal context for any realistic usage (the default context keeps only 28).
_RATING_PRECISION = 60


class PricingError(NumberError):
    """A charge configuration or a quantity that cannot be rated."""


def _non_negative(value, field):
    """Coerce ``value`` to Decimal and refuse negatives (no negative prices or allowances)."""
    return to_non_negative(value, field, PricingError)


@dataclass(frozen=True)
class Tier:
    """One price tier; ``up_to`` None means "and above" (infinity).

    ``flat_fee`` is added once when the tier is used: in graduated pricing for
    every tier that holds at least one billable unit (fractional units count),
    in volume pricing for the single tier reached.  Zero billable units never
    trigger a flat fee.
    """

    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = ZERO

    def __post_init__(self):
        if self.up_to is not None:
            up_to = to_decimal(self.up_to, "tier up_to", PricingError)
            if up_to <= 0:
                raise PricingError(f"tier up_to must be greater than 0, got {up_to}")
            object.__setattr__(self, "up_to", up_to)
        object.__setattr__(self, "unit_price", _non_negative(self.unit_price, "tier unit_price"))
        object.__setattr__(self, "flat_fee", _non_negative(self.flat_fee, "tier flat_fee"))


@dataclass(frozen=True)
class Charge:
    """How one metric of a plan is priced; validated on construction.

    Pass ``tiers`` only for ``graduated`` and ``volume``; ``unit_price`` is used
    by ``per_unit``, ``package_size``/``package_price`` by ``package``.
    ``minimum_amount`` is a per-period floor that applies even to zero usage.
    """

    pricing_model: str
    tiers: tuple[Tier, ...] = ()
    unit_price: Decimal = ZERO
    package_size: Decimal | int = 1
    package_price: Decimal = ZERO
    included_quantity: Decimal = ZERO
    minimum_amount: Decimal = ZERO

    def __post_init__(self):
        tiers = tuple(self.tiers)
        for tier in tiers:
            if not isinstance(tier, Tier):
                raise PricingError(f"tiers must be Tier instances, got {type(tier).__name__}")
        object.__setattr__(self, "tiers", tiers)
        for field in ("unit_price", "package_price", "included_quantity", "minimum_amount"):
            object.__setattr__(self, field, _non_negative(getattr(self, field), field))
        object.__setattr__(
            self, "package_size", to_decimal(self.package_size, "package_size", PricingError)
        )
        validate_charge(self)


def validate_tiers(tiers: tuple[Tier, ...]) -> None:
    """Check that ``tiers`` describe one contiguous, unambiguous price ladder.

    Strictly ascending ``up_to`` makes every quantity fall in exactly one tier;
    requiring the last tier to be open-ended ("and above") means a charge can
    always rate any quantity, so a misconfiguration surfaces when the plan is
    saved instead of during an invoice run.
    """
    if not tiers:
        raise PricingError("tiered pricing needs at least one tier")
    previous = ZERO
    for index, tier in enumerate(tiers, start=1):
        if tier.up_to is None:
            if index != len(tiers):
                raise PricingError(f"only the last tier may be unlimited (tier {index} is)")
            return
        if tier.up_to <= previous:
            raise PricingError(
                f"tier up_to values must be strictly ascending: "
                f"tier {index} up to {tier.up_to} follows {previous}"
            )
        previous = tier.up_to
    raise PricingError(f"the last tier must be unlimited (up_to None), not up to {previous}")


def validate_charge(charge: Charge) -> None:
    """Raise :class:`PricingError` when ``charge`` cannot be rated unambiguously."""
    if charge.pricing_model not in PRICING_MODELS:
        raise PricingError(
            f"unknown pricing model {charge.pricing_model!r}; "
            f"expected one of {', '.join(PRICING_MODELS)}"
        )
    if charge.pricing_model in TIERED_MODELS:
        validate_tiers(charge.tiers)
    elif charge.tiers:
        raise PricingError(f"{charge.pricing_model} pricing takes no tiers")
    if charge.package_size <= 0:
        raise PricingError(f"package_size must be greater than 0, got {charge.package_size}")


def _format_quantity(value):
    """Quantity with thousands separators and no trailing zeros: ``90,000``, ``0.5``."""
    return format(value.normalize(), ",f")


def _format_price(value, decimals):
    """Price with at least the currency's decimals, but never hiding sub-cent digits."""
    places = max(decimals, -value.normalize().as_tuple().exponent)
    return format(value, f",.{places}f")


def _format_amount(value, decimals):
    return format(round_amount(value, decimals), f",.{decimals}f")


@dataclass(frozen=True)
class TierLine:
    """The part of a rating priced at one unit price, for the invoice breakdown.

    ``quantity`` is always billable units (the lines of a rating add up to its
    ``billable``).  ``from_qty``/``to_qty`` bound the tier (``to_qty`` None is
    unbounded).  For package pricing ``package_size`` is set and ``unit_price``
    is the price of one package.
    """

    from_qty: Decimal
    to_qty: Decimal | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    flat_fee: Decimal = ZERO
    package_size: Decimal | None = None

    @property
    def packages(self) -> Decimal | None:
        """Number of (started) packages, for package pricing; None otherwise."""
        if self.package_size is None:
            return None
        return _packages(self.quantity, self.package_size)

    def describe(self, decimals: int = 2) -> str:
        """One human-readable line, e.g. ``10,000 – 100,000: 90,000 × 0.002 = 180.00``."""
        price = _format_price(self.unit_price, decimals)
        amount = _format_amount(self.amount, decimals)
        quantity = _format_quantity(self.quantity)
        if self.package_size is not None:
            size = _format_quantity(self.package_size)
            return (
                f"{quantity} in packages of {size}: "
                f"{_format_quantity(self.packages)} × {price} = {amount}"
            )
        flat = f" + {_format_price(self.flat_fee, decimals)}" if self.flat_fee else ""
        text = f"{quantity} × {price}{flat} = {amount}"
        if self.from_qty == 0 and self.to_qty is None:
            return text
        upper = "∞" if self.to_qty is None else _format_quantity(self.to_qty)
        return f"{_format_quantity(self.from_qty)} – {upper}: {text}"


@dataclass(frozen=True)
class Rating:
    """The result of rating one charge for one period; ``amount`` is unrounded.

    ``usage_amount`` is the amount before the minimum; ``amount`` is the one to
    invoice (``max(usage_amount, minimum_amount)``).
    """

    quantity: Decimal
    included: Decimal
    billable: Decimal
    amount: Decimal
    minimum_applied: bool
    breakdown: tuple[TierLine, ...]
    usage_amount: Decimal

    def describe(self, decimals: int = 2) -> str:
        """Invoice-ready text: the allowance, one line per tier, then any minimum."""
        lines = []
        if self.included:
            lines.append(
                f"Included: {_format_quantity(self.included)} of {_format_quantity(self.quantity)}"
            )
        lines.extend(line.describe(decimals) for line in self.breakdown)
        if not self.breakdown:
            lines.append(f"No billable usage = {_format_amount(ZERO, decimals)}")
        if self.minimum_applied:
            lines.append(
                f"Minimum charge: {_format_amount(self.amount, decimals)} "
                f"(usage {_format_amount(self.usage_amount, decimals)})"
            )
        return "\n".join(lines)


def _packages(billable, package_size):
    """Started packages, exactly: ``divmod`` avoids a rounded quotient landing on an integer."""
    whole, remainder = divmod(billable, package_size)
    return whole + (1 if remainder else 0)


def _per_unit_lines(charge, billable):
    return (TierLine(ZERO, None, billable, charge.unit_price, billable * charge.unit_price),)


def _graduated_lines(charge, billable):
    """Each tier prices only the billable units inside it, ``(previous up_to, up_to]``."""
    lines = []
    lower = ZERO
    for tier in charge.tiers:
        upper = billable if tier.up_to is None else min(billable, tier.up_to)
        units = upper - lower
        if units <= 0:
            break
        amount = units * tier.unit_price + tier.flat_fee
        lines.append(TierLine(lower, tier.up_to, units, tier.unit_price, amount, tier.flat_fee))
        lower = upper
    return tuple(lines)


def volume_tier(tiers: tuple[Tier, ...], billable: Decimal) -> tuple[Decimal, Tier]:
    """Return ``(lower bound, tier)`` of the tier reached by ``billable`` units.

    A quantity exactly on a boundary belongs to the tier whose ``up_to`` equals
    it, matching the graduated convention of half-open ``(lower, up_to]`` tiers.
    """
    lower = ZERO
    for tier in tiers:
        if tier.up_to is None or billable <= tier.up_to:
            return lower, tier
        lower = tier.up_to
    raise PricingError(f"no tier covers {billable}")  # unreachable once validated


def _volume_lines(charge, billable):
    """The single tier reached by the total prices every billable unit."""
    lower, tier = volume_tier(charge.tiers, billable)
    amount = billable * tier.unit_price + tier.flat_fee
    return (TierLine(lower, tier.up_to, billable, tier.unit_price, amount, tier.flat_fee),)


def _package_lines(charge, billable):
    """Every started package is charged in full."""
    amount = _packages(billable, charge.package_size) * charge.package_price
    return (
        TierLine(
            ZERO,
            None,
            billable,
            charge.package_price,
            amount,
            package_size=charge.package_size,
        ),
    )


_LINE_BUILDERS = {
    PER_UNIT: _per_unit_lines,
    GRADUATED: _graduated_lines,
    VOLUME: _volume_lines,
    PACKAGE: _package_lines,
}


def rate(charge: Charge, quantity: Decimal) -> Rating:
    """Price the aggregated ``quantity`` of one period under ``charge``; never rounds.

    - ``per_unit``: billable × unit_price.
    - ``graduated``: each tier prices the billable units inside it.
    - ``volume``: the tier reached by the total billable quantity prices all of
      them (not monotonic when later tiers are cheaper: 100 units at 1.00 cost
      more than 101 at 0.50).
    - ``package``: ceil(billable / package_size) × package_price.

    Zero billable units cost 0 under every model (no breakdown line, no flat
    fee); the ``minimum_amount`` still applies, because it is a per-period
    commitment rather than a price of usage.
    """
    if not isinstance(charge, Charge):
        raise PricingError(f"charge must be a Charge, got {type(charge).__name__}")
    quantity = _non_negative(quantity, "quantity")
    with localcontext() as context:
        context.prec = max(context.prec, _RATING_PRECISION)
        included = min(quantity, charge.included_quantity)
        billable = quantity - included
        breakdown = _LINE_BUILDERS[charge.pricing_model](charge, billable) if billable else ()
        usage_amount = sum((line.amount for line in breakdown), ZERO)
    minimum_applied = usage_amount < charge.minimum_amount
    return Rating(
        quantity=quantity,
        included=included,
        billable=billable,
        amount=charge.minimum_amount if minimum_applied else usage_amount,
        minimum_applied=minimum_applied,
        breakdown=breakdown,
        usage_amount=usage_amount,
    )


def round_amount(amount: Decimal, decimals: int) -> Decimal:
    """Round a line amount to the currency's ``decimals`` places, half up.

    Called once per invoice line, on the final amount: rounding each tier or
    each segment first would let the line drift from the breakdown by cents.
    Half up (away from zero for credits) is what customers expect on invoices.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise PricingError(f"decimals must be a non-negative int, got {decimals!r}")
    amount = to_decimal(amount, "amount", PricingError)
    with localcontext() as context:
        # Room for every integer digit plus the decimals: quantize must never overflow.
        context.prec = max(context.prec, amount.adjusted() + decimals + 2)
        return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def prorate(amount: Decimal, used_seconds: int, period_seconds: int) -> Decimal:
    """Share of ``amount`` for ``used_seconds`` of a ``period_seconds`` period; unrounded.

    Multiplies before dividing so that even splits (half a 30-day month) stay
    exact; proration is by the second because a plan change can happen at any
    moment and customers are billed for exactly the time they had it.
    """
    for name, value in (("used_seconds", used_seconds), ("period_seconds", period_seconds)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise PricingError(f"{name} must be an int, got {value!r}")
    if period_seconds <= 0:
        raise PricingError(f"period_seconds must be greater than 0, got {period_seconds}")
    if not 0 <= used_seconds <= period_seconds:
        raise PricingError(
            f"used_seconds must be between 0 and period_seconds ({period_seconds}), "
            f"got {used_seconds}"
        )
    amount = to_decimal(amount, "amount", PricingError)
    return amount * used_seconds / period_seconds
