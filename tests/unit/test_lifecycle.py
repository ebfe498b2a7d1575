"""The order lifecycle: every allowed and forbidden transition, no-ops and final statuses."""

from __future__ import annotations

import itertools

import pytest

from core.errors import IllegalTransition
from core.lifecycle import (
    INITIAL_STATUS,
    OrderStatus,
    can_transition,
    check_transition,
    is_final,
)

S = OrderStatus
ALLOWED = {
    (S.PENDING, S.PAID),
    (S.PENDING, S.CANCELED),
    (S.PAID, S.SHIPPED),
    (S.PAID, S.CANCELED),
}
PAIRS = list(itertools.product(OrderStatus, repeat=2))
FORBIDDEN = [(a, b) for a, b in PAIRS if a != b and (a, b) not in ALLOWED]


def test_statuses_are_exactly_the_contracts() -> None:
    assert [s.value for s in OrderStatus] == ["PENDING", "PAID", "SHIPPED", "CANCELED"]
    assert INITIAL_STATUS is S.PENDING


@pytest.mark.parametrize(("current", "new"), sorted(ALLOWED))
def test_allowed_transition_changes(current: OrderStatus, new: OrderStatus) -> None:
    assert can_transition(current, new)
    assert check_transition(current, new) is True


@pytest.mark.parametrize(("current", "new"), FORBIDDEN)
def test_forbidden_transition_raises_naming_both(current: OrderStatus, new: OrderStatus) -> None:
    assert not can_transition(current, new)
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, new)
    assert str(info.value) == f"cannot change order status from {current} to {new}"
    assert (info.value.current, info.value.new) == (current.value, new.value)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_same_status_is_a_noop(status: OrderStatus) -> None:
    assert check_transition(status, status) is False
    assert not can_transition(status, status)


def test_exactly_four_changes_are_allowed() -> None:
    assert {(a, b) for a, b in PAIRS if can_transition(a, b)} == ALLOWED
    assert len(FORBIDDEN) == 16 - 4 - 4


def test_shipped_and_canceled_are_final() -> None:
    assert {s for s in OrderStatus if is_final(s)} == {S.SHIPPED, S.CANCELED}
    for final in (S.SHIPPED, S.CANCELED):
        assert not any(can_transition(final, other) for other in OrderStatus)
