"""The Celery worker's PostgreSQL connections: one per pool thread (or prefork child),
opened on first use, so after the fork, and never shared between two running tasks."""

from __future__ import annotations

import os
import threading
from typing import Final

import psycopg

DB_CONNECT_TIMEOUT_SECONDS: Final = 5
DB_STATEMENT_TIMEOUT_MS: Final = 30_000

Connection = psycopg.Connection[tuple[object, ...]]


class WorkerConnection:
    """The calling thread's psycopg connection, opened on first use (after the fork)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[tuple[int, Connection]] = []  # (pid, connection), for close_all

    def get(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or getattr(self._local, "pid", 0) != os.getpid():
            conn = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=DB_CONNECT_TIMEOUT_SECONDS,
                options=f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
            )
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._opened = [(p, c) for p, c in self._opened if not c.closed]
                self._opened.append((os.getpid(), conn))
        return conn

    def reset(self) -> None:
        """Close the calling thread's connection (the next `get` opens a new one)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", 0) == os.getpid():
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        """Close every connection this process opened (never a parent's, after a fork)."""
        with self._lock:
            mine = [c for p, c in self._opened if p == os.getpid()]
            self._opened = [(p, c) for p, c in self._opened if p != os.getpid()]
        for conn in mine:
            conn.close()
        self._local.conn = None
