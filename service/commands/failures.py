"""A server an operator's command needs is down or refuses it: one line naming the server,
the settings that point at it and the error, exit status 1; never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRESQL = "PostgreSQL (DATABASE_URL or POSTGRES_*)"
RABBITMQ = "RabbitMQ (RABBITMQ_*)"


def _unreachable() -> tuple[type[BaseException], ...]:
    """Connection refused, timed out, or turned away (an unknown database, bad credentials):
    imported when a command runs, as the clients are."""
    import aiormq.exceptions
    import asyncpg

    return (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InvalidCatalogNameError,
        asyncpg.InvalidAuthorizationSpecificationError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        aiormq.exceptions.AMQPConnectionError,
    )


@contextmanager
def server_errors(command: str, server: str) -> Iterator[None]:
    """`orders <command>` says in one line that `server` did not answer, and exits 1."""
    errors = _unreachable()
    try:
        yield
    except errors as exc:
        sys.stderr.write(f"orders {command}: cannot use {server}: {type(exc).__name__}: {exc}\n")
        raise SystemExit(1) from None
