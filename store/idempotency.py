"""SQL for Idempotency-Keys: the first response to a key, stored with the order it created.

A key is taken with a transaction-scoped advisory lock, so a second request with the
same key while the first one's transaction is open learns it at once (instead of
waiting), and the lock ends with that transaction, commit or rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from store.db import Executor

_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended($1::bigint || ':' || $2, 7))"
_FIND = """
SELECT fingerprint, status_code, body, order_id FROM idempotency_keys
WHERE user_id = $1 AND key = $2 AND expires_at > now()
"""
# An expired row for the same key is replaced; a few other expired rows are purged.
_SAVE = """
INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, body, order_id, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval)
ON CONFLICT (user_id, key) DO UPDATE SET
    fingerprint = excluded.fingerprint, status_code = excluded.status_code,
    body = excluded.body, order_id = excluded.order_id,
    created_at = now(), expires_at = excluded.expires_at
"""
_PURGE = """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE expires_at <= now()
    LIMIT $1 FOR UPDATE SKIP LOCKED))
"""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: bytes
    status: int
    body: bytes
    order_id: UUID


async def try_lock(conn: Executor, *, user_id: int, key: str) -> bool:
    """Take the key for the caller's transaction; False when another transaction holds it."""
    return bool(await conn.fetchval(_TRY_LOCK, user_id, key))


async def find(conn: Executor, *, user_id: int, key: str) -> StoredResponse | None:
    row = await conn.fetchrow(_FIND, user_id, key)
    if row is None:
        return None
    return StoredResponse(
        bytes(row["fingerprint"]), row["status_code"], bytes(row["body"]), row["order_id"]
    )


async def save(
    conn: Executor,
    *,
    user_id: int,
    key: str,
    response: StoredResponse,
    ttl: timedelta,
    purge: int = 100,
) -> None:
    await conn.execute(
        _SAVE,
        user_id,
        key,
        response.fingerprint,
        response.status,
        response.body,
        response.order_id,
        ttl,
    )
    await conn.execute(_PURGE, purge)
