"""The run's one timer, for its nearest deadline (workflows.lifecycle waits on it).

Version 5 set a timer for the nearest deadline at each wait and cancelled it whenever that
deadline moved: `processed` removes the processing deadline, so each new order's history
had a cancelled timer and a new one (the payment timeout's) in its `processed` task.
From version 6 a timer whose deadline moved LATER stays: it fires early, the loop finds
nothing due and sets the next one, after `processed`, off the order's path; only a
deadline moving EARLIER replaces it, and a timer no deadline needs any more (the order
paid and processed) is cancelled at the next workflow task that happens anyway. A run
keeps the behaviour of the version that began it (its revision): recorded histories replay.

No `from __future__ import annotations`, as in order.py.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

Nearest = Callable[[], datetime | None]


class Alarm:
    def __init__(self, *, keeps_later_timer: bool) -> None:
        self._keeps = keeps_later_timer
        self._timer: asyncio.Task[None] | None = None  # v6: the timer set, while it runs
        self._at: datetime | None = None  # ... and the deadline it was set for

    async def wait(self, nearest: Nearest, wake: Callable[[], bool], now: datetime) -> None:
        """Until `wake()`, the nearest deadline passes, or (v6) comes earlier than the
        timer; `nearest` is the deadline now."""
        if self._keeps:
            await self._wait_keeping(nearest, wake, now)
            return
        due = nearest()
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: nearest() != due or wake(),
                timeout=(due - now) if due is not None else None,
            )

    async def _wait_keeping(
        self, nearest: Nearest, wake: Callable[[], bool], now: datetime
    ) -> None:
        if self._timer is not None and self._timer.done():
            self._timer = None
        due = nearest()
        if due is None and self._timer is not None:  # nothing needs it: gone, at a task
            self._timer.cancel()  # that happens anyway, rather than a task of its own
            self._timer = None
        if due is not None and self._earlier(due):
            if self._timer is not None:
                self._timer.cancel()
            self._timer = asyncio.ensure_future(workflow.sleep(due - now))
            self._at = due
        await workflow.wait_condition(lambda: wake() or self._rang() or self._earlier(nearest()))

    def _rang(self) -> bool:
        return self._timer is not None and self._timer.done()

    def _earlier(self, due: datetime | None) -> bool:
        """A deadline the timer set does not wake the run for in time."""
        if due is None:
            return False
        return self._timer is None or self._at is None or due < self._at
