"""The one backoff policy: exponential, capped, never overflowing at any attempt count.

Every retry loop uses it: the reconnect loops (listener, consumer, Temporal worker), the
outbox rows' next attempt, the Celery task's retries and the workflow's activity retries
(the last two through their libraries' own settings, derived from `RETRY` here).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# 2**64 is far past any cap we use; beyond it the delay is the cap anyway.
_MAX_EXPONENT = 64


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Delays of initial, initial*factor, initial*factor**2, ... capped at `maximum`."""

    initial: float
    maximum: float
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        """The nominal delay after `failures` failures (0 for the first retry's delay)."""
        exponent = min(max(failures, 0), _MAX_EXPONENT)
        return min(self.maximum, self.initial * self.factor**exponent)


# Waiting for a dependency to answer again (reconnect loops).
RECONNECT = BackoffPolicy(initial=0.5, maximum=30.0)
# Retrying one piece of work: an outbox row, a Celery task, a workflow activity.
RETRY = BackoffPolicy(initial=1.0, maximum=60.0)


class Backoff:
    """A loop's failure count under a policy, with a little jitter (downwards only)."""

    def __init__(self, policy: BackoffPolicy = RECONNECT) -> None:
        self._policy = policy
        self.failures = 0

    def next(self) -> float:
        """The delay before the next attempt, counting one more failure."""
        delay = self._policy.delay(self.failures)
        self.failures += 1
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0
