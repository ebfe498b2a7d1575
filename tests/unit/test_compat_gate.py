"""Whether a reader of version 5 may exist (workflows.compat_gate): the decision from what
the deployment and visibility say, and the gate that keeps it, with a fake reader in place
of Temporal: pure, no server."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.service import RPCError, RPCStatusCode

from tests.support.waiting import eventually
from workflows.compat_gate import CompatGate, Seen, pinned_elsewhere_query, v5_may_read
from workflows.versions import Deployment

OURS = "v6"


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (None, True),  # not known: Temporal unreachable, an error
        (Seen(current=None, ramping=None, pinned_elsewhere=0), True),  # none current yet
        (Seen(current="v5", ramping=None, pinned_elsewhere=0), True),  # still v5
        (Seen(current="v5", ramping=OURS, pinned_elsewhere=3), True),  # ramping to us
        (Seen(current=OURS, ramping="v5", pinned_elsewhere=0), True),  # a rollback ramping
        (Seen(current=OURS, ramping=None, pinned_elsewhere=2), True),  # v5 runs still open
        (Seen(current=OURS, ramping=None, pinned_elsewhere=0), False),  # v6 alone
    ],
)
def test_a_v5_reader_may_exist_unless_ours_is_current_alone_with_no_run_elsewhere(
    seen: Seen | None, expected: bool
) -> None:
    assert v5_may_read(OURS, seen) is expected


def test_the_runs_pinned_elsewhere_are_the_open_orders_of_another_version() -> None:
    query = pinned_elsewhere_query(Deployment("orders.test", OURS))
    assert "WorkflowType = 'OrderWorkflow'" in query
    assert "ExecutionStatus = 'Running'" in query
    assert "TaskQueue = 'orders.test'" in query
    # Pinned (an unversioned run goes to the current version, ours), but not to ours.
    assert "TemporalWorkerDeploymentVersion IS NOT NULL" in query
    assert "TemporalWorkerDeploymentVersion != 'orders-test:v6'" in query


class FakeTemporal:
    """What the gate reads, as a test sets it: a Seen, an error, or no answer at all."""

    def __init__(self) -> None:
        self.answer: Seen | Exception | None = None  # None: hangs

    async def read(self) -> Seen:
        if self.answer is None:
            await asyncio.sleep(3600)
        if isinstance(self.answer, Exception):
            raise self.answer
        assert self.answer is not None
        return self.answer


def gate(temporal: FakeTemporal) -> CompatGate:
    return CompatGate(temporal.read, OURS, interval_seconds=0.01, timeout_seconds=0.05)


async def test_the_gate_says_v5_may_read_until_a_check_says_otherwise() -> None:
    temporal = FakeTemporal()
    compat = gate(temporal)
    assert compat.needed()  # before the first check: not known
    temporal.answer = Seen(current=OURS, ramping=None, pinned_elsewhere=0)
    assert await compat.check() is False
    assert not compat.needed()
    temporal.answer = Seen(current="v5", ramping=None, pinned_elsewhere=0)  # a rollback
    assert await compat.check() is True
    assert compat.needed()


@pytest.mark.parametrize(
    "failure",
    [RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""), RuntimeError("not connected")],
)
async def test_an_error_means_not_known_so_v5s_fields_are_sent(failure: Exception) -> None:
    temporal = FakeTemporal()
    compat = gate(temporal)
    temporal.answer = Seen(current=OURS, ramping=None, pinned_elsewhere=0)
    await compat.check()
    temporal.answer = failure
    assert await compat.check() is True
    assert compat.needed()


async def test_a_check_is_bounded_and_no_answer_means_not_known() -> None:
    temporal = FakeTemporal()
    compat = gate(temporal)
    temporal.answer = Seen(current=OURS, ramping=None, pinned_elsewhere=0)
    await compat.check()
    temporal.answer = None  # Temporal does not answer
    async with asyncio.timeout(5):
        assert await compat.check() is True


async def test_the_gate_checks_at_start_and_then_again() -> None:
    temporal = FakeTemporal()
    temporal.answer = Seen(current=OURS, ramping=None, pinned_elsewhere=0)
    compat = gate(temporal)
    task = asyncio.create_task(compat.run())
    try:
        await eventually(lambda: not compat.needed(), what="the first check", deadline_s=5)
        temporal.answer = Seen(current=OURS, ramping=None, pinned_elsewhere=1)
        await eventually(compat.needed, what="a later check", deadline_s=5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
