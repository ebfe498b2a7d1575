"""SQL for the relays waiting for a NOTIFY (migrations/0011_relays_listening.sql): the
outbox's trigger notifies only while one is listening, so a busy relay spares every
writer the NOTIFY's instance-wide commit lock."""

from __future__ import annotations

from uuid import UUID

from store.db import Executor

# Waits for every writer that found no listener to commit (relay_listen's lock).
_LISTEN = "SELECT relay_listen($1)"
_STOP = "DELETE FROM relays_listening WHERE relay_id = $1"


async def listen(db: Executor, relay_id: UUID) -> None:
    """From its commit on, every outbox writer notifies; refreshed, it stays listening."""
    await db.execute(_LISTEN, relay_id)


async def stop_listening(db: Executor, relay_id: UUID) -> None:
    """No NOTIFY for this relay any more (writers still notify for another listening)."""
    await db.execute(_STOP, relay_id)
