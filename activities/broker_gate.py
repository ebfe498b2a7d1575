"""Where publishes wait for RabbitMQ while it is away: one gate per worker process.

A publish attempt that finds the broker down does not fail at once into a growing retry
backoff (up to a minute, so the broker's return went unnoticed for as long): it waits
here until the broker is back, for at most `wait_seconds`, then fails and is retried
after `RETRY_AFTER`. Every waiting attempt is released the moment the connection comes
back, and the attempts queued behind them in Temporal's task queue follow at once.

The number of attempts while the broker is away is bounded by the worker's activity
slots, not by the backlog: each attempt holds its slot while it waits, and the others
wait in Temporal's task queue, costing nothing. At most `max_waiting` attempts wait the
full `wait_seconds`; the worker's other slots stay free for the workflow's other
activities (processing checks, expiries), so an attempt beyond `max_waiting` waits only
`OVERFLOW_WAIT_SECONDS`. With S activity slots that makes at most
`max_waiting / wait_seconds + (S - max_waiting) / OVERFLOW_WAIT_SECONDS` attempts a
second per worker process (under 5 with the defaults: 40 / 15 s + 10 / 5 s).

A first attempt run as a local activity (inside a workflow task, 5 s at most) never
waits: it fails at once and the regular activity takes over.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Final, Protocol

from prometheus_client import Gauge

# After a wait that ended with the broker still away: the wait already paced the attempts.
RETRY_AFTER: Final = timedelta(seconds=1)
OVERFLOW_WAIT_SECONDS: Final = 5.0

WAITING = Gauge(
    "orders_publishes_waiting_for_rabbitmq",
    "Publish attempts of this process waiting for RabbitMQ to come back",
)


class Broker(Protocol):
    """What the gate needs to know of the broker's connection (`messaging.publisher`)."""

    @property
    def down(self) -> bool: ...

    async def wait_up(self, seconds: float) -> bool: ...


class BrokerGate:
    def __init__(self, broker: Broker, *, wait_seconds: float, max_waiting: int) -> None:
        self._broker = broker
        self._wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(max_waiting)

    async def passable(self, *, local: bool) -> bool:
        """True when the broker is up (at once, or after a wait); False when it is still
        away at the end of the wait (none for a local attempt)."""
        if not self._broker.down:
            return True
        if local:
            return False
        WAITING.inc()
        try:
            if self._slots.locked():
                return await self._broker.wait_up(min(OVERFLOW_WAIT_SECONDS, self._wait_seconds))
            async with self._slots:
                return await self._broker.wait_up(self._wait_seconds)
        finally:
            WAITING.dec()
