"""The broker gate's rules, on a fake broker that records how long each attempt may wait:
a local attempt never waits, `max_waiting` attempts wait the full wait, the others
`OVERFLOW_WAIT_SECONDS`, and every waiter is released when the broker is back."""

from __future__ import annotations

import asyncio

from activities.broker_gate import OVERFLOW_WAIT_SECONDS, BrokerGate


class FakeBroker:
    def __init__(self) -> None:
        self.down = True
        self.back = asyncio.Event()
        self.waits: list[float] = []

    async def wait_up(self, seconds: float) -> bool:
        self.waits.append(seconds)
        await self.back.wait()
        return True


async def test_an_up_broker_is_passed_at_once_and_a_local_attempt_never_waits() -> None:
    broker = FakeBroker()
    gate = BrokerGate(broker, wait_seconds=15.0, max_waiting=2)
    assert not await gate.passable(local=True)
    broker.down = False
    assert await gate.passable(local=True)
    assert await gate.passable(local=False)
    assert broker.waits == []


async def test_waiters_beyond_the_limit_wait_less_and_all_are_released_together() -> None:
    broker = FakeBroker()
    gate = BrokerGate(broker, wait_seconds=15.0, max_waiting=2)
    attempts = [asyncio.create_task(gate.passable(local=False)) for _ in range(5)]
    await asyncio.sleep(0)
    assert broker.waits == [15.0, 15.0] + [OVERFLOW_WAIT_SECONDS] * 3
    broker.back.set()
    assert await asyncio.gather(*attempts) == [True] * 5
    # The slots are free again: the next attempt waits the full wait.
    broker.back.clear()
    nxt = asyncio.create_task(gate.passable(local=False))
    await asyncio.sleep(0)
    assert broker.waits[-1] == 15.0
    broker.back.set()
    assert await nxt


async def test_a_wait_shorter_than_the_overflows_caps_it() -> None:
    broker = FakeBroker()
    gate = BrokerGate(broker, wait_seconds=2.0, max_waiting=1)
    attempts = [asyncio.create_task(gate.passable(local=False)) for _ in range(2)]
    await asyncio.sleep(0)
    assert broker.waits == [2.0, 2.0]
    broker.back.set()
    await asyncio.gather(*attempts)
