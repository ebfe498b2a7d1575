"""The order workflow's rules, without Temporal: what a processing check leads to, when the
order is stuck, which deadlines the run waits for, and what a run hands to the next."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from activities.types import CheckResult
from core.envelope import EventEnvelope
from core.timeline import TimelineKind
from workflows.names import OrderPhase
from workflows.policies import PROCESSING_CHECKS
from workflows.state import CheckStep, RunState
from workflows.types import OrderWorkflowInput, StatusChange

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def order() -> OrderWorkflowInput:
    return OrderWorkflowInput(
        event=EventEnvelope("e-1", "new_order", "o-1", NOW, "{}"),
        user_id=7,
        payment_timeout_seconds=3600,
        processing_timeout_seconds=60,
    )


def change(old: str, new: str, event_id: str = "s-1") -> StatusChange:
    event = EventEnvelope(event_id, "order_status_changed", "o-1", NOW, "{}")
    return StatusChange(event, old, new, NOW)


def test_a_check_that_finds_it_processed_ends_the_checks() -> None:
    state = RunState(order())
    state.phase = OrderPhase.REPUBLISHING
    assert state.after_check(CheckResult(NOW)) is None
    assert state.processed
    assert state.processing_due is None
    assert state.phase == OrderPhase.PROCESSED
    assert state.timeline[-1].kind == TimelineKind.PROCESSED.value


def test_nothing_waits_in_the_queues_so_it_republishes() -> None:
    state = RunState(order())
    assert state.after_check(CheckResult(None, 0)) == CheckStep(republish=True, stuck=False)
    assert (state.republishes, state.checks, state.phase) == (1, 1, OrderPhase.REPUBLISHING)


def test_a_backlog_or_an_unknown_one_waits_instead() -> None:
    for waiting in (12, None):
        state = RunState(order())
        assert state.after_check(CheckResult(None, waiting)) == CheckStep(False, False)
        assert (state.republishes, state.checks) == (0, 1)


def test_the_last_check_of_a_round_marks_it_stuck_and_plans_no_more() -> None:
    state = RunState(order())
    steps = [state.after_check(CheckResult(None, 0)) for _ in range(PROCESSING_CHECKS)]
    assert [s.stuck for s in steps if s] == [False] * (PROCESSING_CHECKS - 1) + [True]
    assert state.phase == OrderPhase.STUCK
    state.schedule_check(NOW)
    assert state.processing_due is None


def test_checks_wait_longer_each_time_up_to_an_hour() -> None:
    state = RunState(order())
    waits = []
    for _ in range(PROCESSING_CHECKS - 1):
        state.after_check(CheckResult(None, 0))
        state.schedule_check(NOW)
        assert state.processing_due is not None
        waits.append((state.processing_due - NOW).total_seconds())
    assert waits == [120, 240, 480, 960, 1920]


def test_an_operators_retry_starts_a_new_round_now_only_when_stuck() -> None:
    state = RunState(order())
    state.retry_requested = True
    assert not state.retry(NOW)
    for _ in range(PROCESSING_CHECKS):
        state.after_check(CheckResult(None, 0))
    state.retry_requested = True
    assert state.retry(NOW)
    assert (state.checks, state.phase, state.processing_due) == (0, OrderPhase.REPUBLISHING, NOW)
    assert not state.retry_requested


def test_the_run_waits_only_for_the_deadlines_that_still_matter() -> None:
    state = RunState(order())
    payment = NOW + timedelta(hours=1)
    assert state.deadlines(checking=False, expiring=False) == [payment]
    state.schedule_check(NOW)
    due = NOW + timedelta(minutes=1)
    assert state.deadlines(checking=False, expiring=False) == [due, payment]
    assert state.deadlines(checking=True, expiring=True) == []
    state.take_status_change(change("PENDING", "PAID"))
    assert state.deadlines(checking=False, expiring=False) == [due]
    state.take_processed("p-1", NOW)
    assert state.deadlines(checking=False, expiring=False) == []


def test_a_signal_delivered_twice_counts_once() -> None:
    state = RunState(order())
    assert state.take_status_change(change("PENDING", "PAID"))
    assert not state.take_status_change(change("PENDING", "PAID"))
    assert [e.event_id for e in state.pending] == ["s-1"]
    assert state.take_processed("p-1", NOW)
    assert not state.take_processed("p-2", NOW)


def test_the_next_run_starts_where_this_one_stands() -> None:
    state = RunState(order())
    state.note_published("e-1", NOW, "new_order e-1")
    state.take_status_change(change("PENDING", "PAID"))
    state.after_check(CheckResult(None, 0))
    state.schedule_check(NOW)
    carried = RunState(dataclasses.replace(order(), state=state.handover()))
    assert carried.handover() == state.handover()
    assert carried.view() == state.view()
    assert not carried.take_status_change(change("PENDING", "PAID"))  # still seen
    assert carried.summary() == state.summary()
