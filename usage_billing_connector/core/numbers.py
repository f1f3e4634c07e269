"""Exact numbers from whatever hands them over: Odoo floats, JSON, text.

Money and quantities are :class:`~decimal.Decimal` everywhere: binary floats
cannot represent prices such as 0.002 exactly.  Floats (Odoo Float and Monetary
fields hand them over) are converted through their shortest ``repr``, so ``0.1``
becomes ``Decimal("0.1")``, not its binary expansion.  Booleans are refused:
``True`` is an int in Python, and a price of ``True`` is always a bug upstream.
"""

from decimal import Decimal, InvalidOperation


class NumberError(ValueError):
    """A value that cannot be used as an exact number."""


def to_decimal(value, field="value", error=NumberError):
    """``value`` as a finite Decimal, else ``error`` (a ``NumberError`` subclass) is raised."""
    if isinstance(value, bool):
        raise error(f"{field} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise error(f"{field} is not a number: {value!r}") from None
    else:
        raise error(f"{field} must be a number, got {type(value).__name__}")
    if not result.is_finite():
        raise error(f"{field} must be finite, got {value!r}")
    return result


def to_optional_decimal(value, field="value", error=NumberError):
    """Like :func:`to_decimal`, with ``None`` (unknown) kept as ``None``."""
    return None if value is None else to_decimal(value, field, error)


def to_non_negative(value, field="value", error=NumberError):
    """Like :func:`to_decimal`, refusing negatives (prices, allowances, amounts owed)."""
    result = to_decimal(value, field, error)
    if result < 0:
        raise error(f"{field} must not be negative, got {result}")
    return result
