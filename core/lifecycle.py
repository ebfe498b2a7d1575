"""Order statuses and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from core.errors import IllegalTransition


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    CANCELED = "CANCELED"


INITIAL_STATUS = OrderStatus.PENDING

_ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELED}),
    OrderStatus.SHIPPED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
}


def is_final(status: OrderStatus) -> bool:
    """A final status allows no further change."""
    return not _ALLOWED[status]


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    """True when `current -> new` is a real, allowed change (a no-op is not a change)."""
    return new in _ALLOWED[current]


def check_transition(current: OrderStatus, new: OrderStatus) -> bool:
    """Decide a requested change.

    Returns True when the status must change, False for a no-op (same status),
    and raises IllegalTransition for a change the lifecycle forbids.
    """
    if current == new:
        return False
    if not can_transition(current, new):
        raise IllegalTransition(current.value, new.value)
    return True
