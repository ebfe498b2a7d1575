"""Random sequences of status requests against the lifecycle, checked against its table."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from core.errors import IllegalTransition
from core.lifecycle import INITIAL_STATUS, OrderStatus, check_transition, is_final

P, A, S, C = OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CANCELED
# The contract's table, written out independently of core.lifecycle.
ALLOWED = {(P, A), (P, C), (A, S), (A, C)}


class OrderLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status = INITIAL_STATUS
        self.history = [INITIAL_STATUS]

    @rule(new=st.sampled_from(OrderStatus))
    def request(self, new: OrderStatus) -> None:
        current = self.status
        if current != new and (current, new) not in ALLOWED:
            with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
                check_transition(current, new)
            return
        changed = check_transition(current, new)
        if current == new:
            assert changed is False  # a no-op, answered 200
        else:
            assert changed is True
            self.status = new
            self.history.append(new)

    @invariant()
    def final_means_no_way_out(self) -> None:
        assert is_final(self.status) == (self.status in (S, C))

    @invariant()
    def history_follows_the_table(self) -> None:
        assert self.history[0] == P
        assert all(step in ALLOWED for step in zip(self.history, self.history[1:], strict=False))
        assert len(self.history) <= 3  # PENDING, at most PAID, then a final status


TestOrderLifecycle = OrderLifecycle.TestCase
TestOrderLifecycle.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
