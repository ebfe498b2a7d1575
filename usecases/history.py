"""An order's timeline, for its owner: ownership from PostgreSQL (or the cache), the steps
from wherever the order's life is recorded (its workflow's history, `workflows.history`).

No history can mean two things, told apart by the outbox: the order has not reached
Temporal yet (its `new_order` row waits, or is parked): an empty timeline; or it did and
the history is gone, deleted after the namespace's retention: HistoryGone (410).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol
from uuid import UUID

from core.errors import HistoryGone, OrderNotFound
from core.timeline import TimelineEntry
from usecases.orders import Orders
from usecases.outbox import Outbox


class TimelineSource(Protocol):
    async def timeline(self, order_id: UUID) -> list[TimelineEntry]:
        """The order's steps; OrderNotFound when none are recorded (yet, or any more).

        HistoryUnavailable when the record cannot be reached now.
        """
        ...


class OrderHistory:
    def __init__(
        self, orders: Orders, source: TimelineSource, outbox: Outbox, *, retention: timedelta
    ) -> None:
        self._orders = orders
        self._source = source
        self._outbox = outbox
        self._retention = retention

    async def timeline(self, *, order_id: UUID, user_id: int) -> list[TimelineEntry]:
        """The caller's order's timeline; empty while the order has not reached Temporal,
        HistoryGone once its history was deleted after the retention period."""
        await self._orders.get(order_id=order_id, user_id=user_id)  # 404 / 403 first
        try:
            return await self._source.timeline(order_id)
        except OrderNotFound:
            if not await self._outbox.handed_over(order_id):
                return []  # the relay has not handed the order to Temporal yet
        # Handed over: gone, unless the relay handed it over between the two questions
        # (a row is marked only after its workflow started), so ask Temporal once more.
        try:
            return await self._source.timeline(order_id)
        except OrderNotFound:
            raise HistoryGone(order_id, self._retention) from None
