"""Creating an order under an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header).

Keys belong to a user and live 24 hours. The key's stored response is written in the
same transaction as the order it created, so a 201 and its key can never part: a retry
either finds both or neither. A retry with the same key replays the stored status and
body; with another body it is refused (IdempotencyKeyReused); while the first request's
transaction is still open it is refused at once (IdempotencyKeyInFlight).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg
import orjson

from core.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from core.order import OrderItem, view_of
from store import idempotency
from store.cache import OrderCache
from store.idempotency import StoredResponse
from usecases.guard import database_guarded
from usecases.placing import insert_new, new_order

KEY_TTL = timedelta(hours=24)
CREATED = 201


@dataclass(frozen=True, slots=True)
class Created:
    status: int
    body: bytes  # the order's JSON, as first answered
    order_id: UUID
    replayed: bool


def fingerprint(items: tuple[OrderItem, ...]) -> bytes:
    """What makes two requests the same: their items, whatever the JSON's spelling."""
    canonical = [[i.product_id, i.quantity, str(i.price.normalize())] for i in items]
    return hashlib.sha256(orjson.dumps(canonical)).digest()


class IdempotentOrders:
    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: OrderCache,
        *,
        acquire_timeout: float,
        max_pending: int,
        ttl: timedelta = KEY_TTL,
    ) -> None:
        self._pool = pool
        self._cache = cache
        self._ttl = ttl
        self._acquire_timeout = acquire_timeout
        self._max_pending = max_pending

    @database_guarded
    async def create(self, *, user_id: int, items: tuple[OrderItem, ...], key: str) -> Created:
        """The order created under `key`: made now, or the first request's answer replayed."""
        print_ = fingerprint(items)
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
            if not await idempotency.try_lock(conn, user_id=user_id, key=key):
                raise IdempotencyKeyInFlight()
            stored = await idempotency.find(conn, user_id=user_id, key=key)
            if stored is not None:
                if stored.fingerprint != print_:
                    raise IdempotencyKeyReused()
                return Created(stored.status, stored.body, stored.order_id, replayed=True)
            order, event = new_order(user_id, items)
            view = view_of(order)
            response = StoredResponse(print_, CREATED, view.body, order.id)
            await insert_new(conn, order, event, max_pending=self._max_pending)
            await idempotency.save(conn, user_id=user_id, key=key, response=response, ttl=self._ttl)
        await self._cache.put(view)
        return Created(CREATED, response.body, order.id, replayed=False)
