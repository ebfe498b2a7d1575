"""How a backlog drains: orders processed from now until none is left (or time runs out).

Every `SAMPLE_SECONDS` it notes how many were processed so far and how many outbox rows
still wait for the relay, so a run shows the phases of a drain: while the relay is still
starting workflows for the backlog, the Temporal server is busy with the starts and few
orders complete; once every workflow is started, they complete at the pipeline's rate.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from bench.orders import Watch

SAMPLE_SECONDS = 5.0
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Drain:
    backlog: int  # orders waiting when the clock started
    drained: int
    seconds: float
    complete: bool
    first_seconds: float | None  # until the first of them was processed
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # t, done, unrelayed

    @property
    def per_second(self) -> float:
        return self.drained / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        state = "drained" if self.complete else "NOT drained"
        first = (
            "" if self.first_seconds is None else f"; the first after {self.first_seconds:.1f} s"
        )
        return (
            f"{state}: {self.drained} of {self.backlog} in {self.seconds:.1f} s"
            f" ({self.per_second:.1f} orders/s){first}"
        )

    def series(self) -> str:
        """Processed so far / outbox rows waiting for the relay, every SAMPLE_SECONDS."""
        return ", ".join(f"{t:.0f} s {done}/{unrelayed}" for t, done, unrelayed in self.samples)


async def drain(dsn: str, within: float) -> Drain:
    """From now until every order in the database is processed (or `within` runs out)."""
    conn = await asyncpg.connect(dsn)
    try:
        watch = Watch(conn)
        total, start = await watch.orders(), await watch.processed()
        began = time.perf_counter()
        first: float | None = None
        samples: list[tuple[float, int, int]] = []
        done = 0
        while (elapsed := time.perf_counter() - began) < within:
            done = await watch.processed() - start
            if done and first is None:
                first = elapsed
            if done >= total - start:
                break
            if elapsed >= SAMPLE_SECONDS * (len(samples) + 1):
                samples.append((elapsed, done, await watch.unrelayed()))
            await asyncio.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - began
        return Drain(total - start, done, elapsed, done >= total - start, first, samples)
    finally:
        await conn.close()
