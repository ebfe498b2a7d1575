"""The outbox, as the pipeline sees it: recording that an event reached RabbitMQ."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from store import outbox


class Outbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record_published(self, event_id: UUID) -> datetime | None:
        """When RabbitMQ confirmed the event (first confirm wins); None for an unknown id."""
        return await outbox.mark_published(self._pool, event_id=event_id)

    async def backlog(self) -> outbox.Backlog:
        """What waits in the outbox: for the relay, for RabbitMQ; the oldest waiting row's age."""
        return await outbox.backlog(self._pool)
