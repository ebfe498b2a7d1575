"""The outbox, as the pipeline and its operators see it: recording that an event reached
RabbitMQ, whether an order reached Temporal, and the rows the relay parked (how many,
which, re-driving them once the cause is fixed, or discarding those that can never
succeed, each with an audit line)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from core import audit
from store import outbox_backlog, outbox_marks, outbox_parked
from store.outbox_parked import ParkedRow
from usecases.guard import database_guarded

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record_published(self, event_id: UUID) -> datetime | None:
        """When RabbitMQ confirmed the event (first confirm wins); None for an unknown id."""
        return await outbox_marks.mark_published(self._pool, event_id=event_id)

    async def backlog(self) -> outbox_backlog.Backlog:
        """What waits in the outbox: for the relay, for RabbitMQ; the oldest waiting row's age."""
        return await outbox_backlog.backlog(self._pool)

    @database_guarded
    async def handed_over(self, order_id: UUID) -> bool:
        """True once the order's `new_order` event was handed to Temporal."""
        return await outbox_backlog.handed_over(self._pool, order_id=order_id)

    async def parked_count(self) -> int:
        return await outbox_parked.count_parked(self._pool)

    async def parked(self, *, limit: int = 100) -> list[ParkedRow]:
        """The parked rows, oldest first, with the reason each was parked."""
        return await outbox_parked.parked(self._pool, limit=limit)

    async def redrive(
        self, *, order_id: UUID | None = None, event_ids: Sequence[UUID] | None = None
    ) -> list[UUID]:
        """Give parked rows (all, an order's, or the given ones) back to the relay, as new."""
        ids = await outbox_parked.redrive(self._pool, order_id=order_id, event_ids=event_ids)
        for event_id in ids:
            log.info("outbox row re-driven event_id=%s", event_id)
        return ids

    async def discard(
        self,
        *,
        reason: str,
        by: str,
        order_id: UUID | None = None,
        event_ids: Sequence[UUID] | None = None,
    ) -> list[ParkedRow]:
        """Throw away parked rows (all, an order's, or the given ones) for good, each with an
        audit line naming the operator `by` and their `reason`; never a row still waiting."""
        rows = await outbox_parked.discard(self._pool, order_id=order_id, event_ids=event_ids)
        for row in rows:
            audit.record(
                "outbox_discarded",
                logging.WARNING,
                event_id=row.id,
                order_id=row.aggregate_id,
                event_type=row.event_type,
                attempts=row.attempts,
                parked_reason=row.reason,
                reason=reason,
                by=by,
            )
        return rows
