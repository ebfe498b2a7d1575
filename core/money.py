"""Money: Decimal in the core and in PostgreSQL; JSON numbers only at the edges."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
# numeric(12,2) in PostgreSQL: at most 10 digits before the point.
MAX_AMOUNT = Decimal("9999999999.99")


def quantize(amount: Decimal) -> Decimal:
    """Round to cents (banker's rounding; exact for inputs with at most 2 places)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def line_total(quantity: int, price: Decimal) -> Decimal:
    return quantize(price * quantity)


def order_total(lines: Iterable[tuple[int, Decimal]]) -> Decimal:
    """The exact sum of quantity x price over the lines, to 2 places."""
    total = sum((line_total(q, p) for q, p in lines), Decimal(0))
    return quantize(total)


def to_json_number(amount: Decimal) -> float:
    """A JSON number for an amount.

    Every amount we store has at most 12 significant digits, and a float prints as
    the shortest decimal that round-trips, so the JSON text is the exact decimal.
    """
    return float(quantize(amount))
