"""An order's timeline, for its owner: ownership from PostgreSQL (or the cache), the steps
from wherever the order's life is recorded (its workflow's history, `workflows.history`)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from core.errors import OrderNotFound
from core.timeline import TimelineEntry
from usecases.orders import Orders


class TimelineSource(Protocol):
    async def timeline(self, order_id: UUID) -> list[TimelineEntry]:
        """The order's steps; OrderNotFound when none are recorded (yet).

        HistoryUnavailable when the record cannot be reached now.
        """
        ...


class OrderHistory:
    def __init__(self, orders: Orders, source: TimelineSource) -> None:
        self._orders = orders
        self._source = source

    async def timeline(self, *, order_id: UUID, user_id: int) -> list[TimelineEntry]:
        """The caller's order's timeline; empty while the order has not reached Temporal."""
        await self._orders.get(order_id=order_id, user_id=user_id)  # 404 / 403 first
        try:
            return await self._source.timeline(order_id)
        except OrderNotFound:
            return []  # the relay has not handed the order to Temporal yet
