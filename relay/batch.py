"""The relay's batches: what one claim took, what it left to do, and the relay's settings."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from relay.window import WindowPolicy

log = logging.getLogger("relay.outbox")  # the relay's lines, as operators grep them


@dataclass(frozen=True, slots=True)
class BatchResult:
    claimed: int
    relayed: int
    errors: tuple[str, ...] = ()
    parked: int = 0
    full: bool = False  # as many rows as the window asked for: more may wait


@dataclass(slots=True)
class Batch:
    """A claim's rows on their way: how many, how many left, for the window and pacing."""

    size: int
    room: int  # what the window had room for when it was claimed
    epoch: int  # the window's epoch then
    started: float = field(default_factory=time.monotonic)
    left: int = field(init=False)  # rows whose hand-off has not ended yet

    def __post_init__(self) -> None:
        self.left = self.size


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """The relay's settings (service.pipeline.relay_config builds it from them: the
    defaults are the settings', nowhere else)."""

    dsn: str  # for the LISTEN connection
    batch_size: int  # the window's maximum: rows in flight at once
    min_batch_size: int  # the window's minimum
    latency_tolerance: float  # a batch slower than this times the baseline shrinks it
    latency_target_seconds: float  # ... and slower than this
    poll_interval_seconds: float
    db_timeout_seconds: float
    max_attempts: int  # failures before a row is parked
    # How long a claimed row is this relay's: a hand-off is cut off after it, and a row
    # whose relay died is claimable again after it. Above the hand-off's own timeout.
    lease_seconds: float

    def window_policy(self) -> WindowPolicy:
        return WindowPolicy(
            minimum=min(self.min_batch_size, self.batch_size),
            maximum=self.batch_size,
            tolerance=self.latency_tolerance,
            latency_target_seconds=self.latency_target_seconds,
        )


def hold_seconds(
    *, window: int, handing: int, latest: Batch | None, poll_interval: float, latency_target: float
) -> float:
    """How long the next claim waits (0: claim now). Claims are paced by the batches
    they start, about as before leases, when each claim waited for its whole batch: a
    claim waits until half the window is free and half the latest batch is handed
    over, or, when that batch is slow, `latency_target` seconds since it started, so a
    slow hand-off holds no other row back for longer."""
    room = window - handing
    if room <= 0 or 2 * room < window:
        return poll_interval  # until hand-offs end
    if latest is None or 2 * latest.left <= latest.size:
        return 0.0
    return max(0.0, latest.started + latency_target - time.monotonic())


@dataclass(slots=True)
class FailureBurst:
    """One warning per failure burst, one info line when it ends; never one per row."""

    failing: bool = False

    def report(self, claimed: int, errors: tuple[str, ...]) -> None:
        if errors and not self.failing:
            self.failing = True
            log.warning(
                "outbox relay failing, rows stay queued with backoff: %d of %d failed, error=%s",
                len(errors),
                claimed,
                errors[0],
            )
        elif claimed and not errors and self.failing:
            self.failing = False
            log.info("outbox relay recovered, relaying again")
