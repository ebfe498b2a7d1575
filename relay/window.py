"""How many rows the relay hands to Temporal at once: a window sized by AIMD.

The relay keeps at most the window's size of rows in flight (claimed, not yet recorded):
it claims what the window has room for, as a batch handed over concurrently. The window
grows while the engine keeps up and shrinks when it does not, like TCP's congestion
window, and like TCP's it grows per row acknowledged, whatever the batches' sizes:

- *slow start*: from `minimum`, one more row for each row of a full batch that went
  well (the window doubles per window of rows), until the first sign of trouble;
- *additive increase*: then one more row per window of rows of full batches that went
  well (a batch smaller than its room says nothing about a larger window, so it does not
  grow it);
- *multiplicative decrease*: halved (not below `minimum`) when the batch's median hand-off
  took more than `tolerance` times the baseline (the engine queues our calls: they wait
  instead of working), or when a hand-off failed (timeouts, RESOURCE_EXHAUSTED, Temporal
  unreachable); after a failure it starts over from `minimum` in slow start. One sign of
  trouble shrinks it once: a batch claimed before the last decrease (its `epoch` is older)
  reports on a window that is gone, and is ignored.

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
    """The bounds and the latency rule, from RELAY_MIN_BATCH_SIZE, RELAY_BATCH_SIZE,
    RELAY_LATENCY_TOLERANCE and RELAY_LATENCY_TARGET_SECONDS (their defaults are the
    settings', nowhere else)."""

    minimum: int
    maximum: int
    tolerance: float
    latency_target_seconds: float

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
        self._credit = 0.0  # additive increase: rows acknowledged, in windows, not yet grown
        self._epoch = 0  # decreases so far

    @property
    def size(self) -> int:
        """How many rows to claim, and so to have in flight, next."""
        return self._size

    @property
    def baseline(self) -> float | None:
        return self._baseline

    @property
    def epoch(self) -> int:
        """Which window a batch claimed now is in flight under (see `observe`)."""
        return self._epoch

    def observe(
        self,
        *,
        claimed: int,
        latencies: Sequence[float],
        failed: int,
        room: int | None = None,
        epoch: int | None = None,
    ) -> None:
        """One batch's report: rows claimed, the seconds each successful hand-off took,
        how many failed with an error to retry; the room it was claimed for (the window's
        size, when no other batch was in flight) and the `epoch` it was claimed in."""
        policy = self._policy
        if epoch is not None and epoch != self._epoch:
            return  # claimed under a window since shrunk: news of it is old news
        if failed:
            self._decrease(policy.minimum, slow_start=True)
            return
        if not latencies:
            return
        median = statistics.median(latencies)
        baseline = self._baseline
        self._baseline = median if baseline is None else min(median, baseline * BASELINE_DRIFT)
        if baseline is not None and median > max(
            policy.latency_target_seconds, policy.tolerance * baseline
        ):
            self._decrease(max(policy.minimum, self._size // 2), slow_start=False)
            return
        if claimed < (self._size if room is None else room):
            return
        if self._slow_start:
            self._size = min(policy.maximum, self._size + claimed)
            return
        self._credit += claimed / self._size
        grown = int(self._credit + 1e-9)  # a window's worth in fractions of it is whole
        self._credit -= grown
        self._size = min(policy.maximum, self._size + grown)

    def _decrease(self, size: int, *, slow_start: bool) -> None:
        self._size, self._slow_start, self._credit = size, slow_start, 0.0
        self._epoch += 1
