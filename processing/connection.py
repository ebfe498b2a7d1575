"""The Celery worker's PostgreSQL connection: one per worker process, opened after the fork."""

from __future__ import annotations

import os
from typing import Final

import psycopg

DB_CONNECT_TIMEOUT_SECONDS: Final = 5
DB_STATEMENT_TIMEOUT_MS: Final = 30_000


class WorkerConnection:
    """One psycopg connection per worker process, opened on first use (after the fork)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._pid = 0

    def get(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed or self._pid != os.getpid():
            self._conn = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=DB_CONNECT_TIMEOUT_SECONDS,
                options=f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
            )
            self._pid = os.getpid()
        return self._conn

    def reset(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
