"""Handing one claimed row over, within its lease, and what to record for it.

The relay (relay.outbox) claims rows and records outcomes; this is the hand-off between:
the row's envelope goes to the engine (`Handoff`: workflows.starter.TemporalHandoff),
and the outcome is None (handed over), a `Failure` (tried again after its own backoff,
core.backoff) or a `Parking`: a row that cannot be handed over at all (an unknown event
type, a payload its start cannot read) or that failed more than `max_attempts` times is
parked with its reason, logged at ERROR, and holds back only its own order's later rows
until it is re-driven (usecases.outbox).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from core.backoff import RETRY
from core.events import InvalidEvent
from relay.marks import Outcome
from store.outbox import OutboxRow
from store.outbox_marks import Failure, Parking

log = logging.getLogger("relay.outbox")  # the relay's lines, as operators grep them


class Handoff(Protocol):
    """Hands one row to the workflow engine (`workflows.starter.TemporalHandoff`)."""

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What `hand_over` raises for a row to try again later."""
        ...

    async def hand_over(self, row: OutboxRow) -> None:
        """Raises one of `errors` to retry later, InvalidEvent when it never can succeed."""
        ...


@dataclass(frozen=True, slots=True)
class RowHandoff:
    """One row handed over, bounded by its lease; `attempt` never raises but for a bug
    of the relay itself."""

    handoff: Handoff
    lease_seconds: float
    max_attempts: int

    async def attempt(self, row: OutboxRow, lease: UUID) -> Outcome:
        """Hand one row over, within its lease; what to record for it."""
        try:
            async with asyncio.timeout(self.lease_seconds):
                await self.handoff.hand_over(row)
        except InvalidEvent as exc:
            return self._park(row, lease, f"cannot be relayed: {exc}")
        except self.handoff.errors as exc:
            error = f"{type(exc).__name__}: {exc}"
        except TimeoutError:
            error = f"the hand-off outlasted its lease of {self.lease_seconds:g} s"
        except Exception as exc:  # one row's bug must not stop the others: logged, retried
            log.exception(
                "relay failed unexpectedly order_id=%s event_id=%s", row.aggregate_id, row.id
            )
            error = f"unexpected {type(exc).__name__}: {exc}"
        else:
            log.debug("relayed order_id=%s event_id=%s", row.aggregate_id, row.id)
            return None
        attempts = row.attempts + 1
        if attempts > self.max_attempts:
            return self._park(row, lease, f"failed {attempts} times, last error: {error}")
        log.debug("relay failed order_id=%s event_id=%s error=%s", row.aggregate_id, row.id, error)
        return Failure(row.id, error, RETRY.delay(row.attempts), lease)

    def _park(self, row: OutboxRow, lease: UUID, reason: str) -> Parking:
        log.error(
            "outbox row parked, its order waits for a re-drive order_id=%s event_id=%s"
            " event_type=%s attempts=%d reason=%s",
            row.aggregate_id,
            row.id,
            row.event_type,
            row.attempts + 1,
            reason,
        )
        return Parking(row.id, reason, lease)
