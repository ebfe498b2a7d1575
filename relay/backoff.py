"""Exponential backoff for loops that wait for a dependency to come back."""

from __future__ import annotations

import random


class Backoff:
    """Delays of initial, initial*factor, ... capped at `maximum`, with a little jitter."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, factor: float = 2.0) -> None:
        self._initial = initial
        self._maximum = maximum
        self._factor = factor
        self.failures = 0

    def next(self) -> float:
        """The delay before the next attempt, counting one more failure."""
        delay = min(self._maximum, self._initial * self._factor**self.failures)
        self.failures += 1
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0
