"""How many rows the relay hands to Temporal at once: a window sized by AIMD.

Every row of a batch is handed over concurrently, so the batch's size is the number of
starts and signals in flight. The window grows while the engine keeps up and shrinks when
it does not, like TCP's congestion window:

- *slow start*: from `minimum`, doubling after each full batch that went well, until the
  first sign of trouble;
- *additive increase*: then one more row after each full batch that went well (a batch
  smaller than the window says nothing about a larger one, so it does not grow it);
- *multiplicative decrease*: halved (not below `minimum`) when the batch's median hand-off
  took more than `tolerance` times the baseline (the engine queues our calls: they wait
  instead of working), or when a hand-off failed (timeouts, RESOURCE_EXHAUSTED, Temporal
  unreachable); after a failure it starts over from `minimum` in slow start.

The baseline is the lowest median seen, drifting up by `BASELINE_DRIFT` a batch, so a
machine that got slower for good is not read as congestion forever (doubling takes about
140 batches: slower than the window's own growth of 1/size a batch, so a sustained
backlog cannot talk the baseline up while the window grows). Medians under
`latency_target_seconds` never count as congestion (a fast engine's jitter). Pure
arithmetic: the relay reports each batch, and reads `size` before claiming the next.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

BASELINE_DRIFT: Final = 1.005


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    minimum: int = 4
    maximum: int = 100
    tolerance: float = 2.0
    latency_target_seconds: float = 0.25

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.maximum:
            raise ValueError(f"window bounds: need 1 <= {self.minimum} <= {self.maximum}")
        if self.tolerance <= 1.0:
            raise ValueError(f"tolerance must exceed 1, got {self.tolerance}")


class HandoffWindow:
    def __init__(self, policy: WindowPolicy) -> None:
        self._policy = policy
        self._size = policy.minimum
        self._slow_start = True
        self._baseline: float | None = None

    @property
    def size(self) -> int:
        """How many rows to claim, and so to have in flight, next."""
        return self._size

    @property
    def baseline(self) -> float | None:
        return self._baseline

    def observe(self, *, claimed: int, latencies: Sequence[float], failed: int) -> None:
        """One batch's report: rows claimed, the seconds each successful hand-off took,
        how many failed with an error to retry."""
        policy = self._policy
        if failed:
            self._size, self._slow_start = policy.minimum, True
            return
        if not latencies:
            return
        median = statistics.median(latencies)
        baseline = self._baseline
        self._baseline = median if baseline is None else min(median, baseline * BASELINE_DRIFT)
        if baseline is not None and median > max(
            policy.latency_target_seconds, policy.tolerance * baseline
        ):
            self._size = max(policy.minimum, self._size // 2)
            self._slow_start = False
            return
        if claimed < self._size:
            return
        grown = self._size * 2 if self._slow_start else self._size + 1
        self._size = min(policy.maximum, grown)
