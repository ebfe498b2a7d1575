"""The Celery task `process_order`: simulated work, then its effect recorded once.

Recording the effect and writing the `order_processed` outbox row is one statement
(store.processed), so a task that runs twice has its effect once, and the order's
workflow learns of it through the outbox relay (Celery never talks to Temporal).
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
from celery import Celery, Task

from core import correlation
from relay.celery_app import PROCESS_ORDER
from service.settings import Settings
from store.processed import record_processed

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_SECONDS = 60
DB_CONNECT_TIMEOUT_SECONDS = 5
DB_STATEMENT_TIMEOUT_MS = 30_000


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


def process(
    connection: WorkerConnection,
    *,
    order_id: str,
    work_seconds: float,
    correlation_id: str | None = None,
) -> bool:
    """Do the work and record it; True when this run recorded the effect.

    Raises psycopg.OperationalError when PostgreSQL is unreachable (the task retries).
    """
    try:
        order = UUID(order_id)
    except ValueError:
        log.error("process_order got an invalid order id order_id=%s", order_id)
        return False
    time.sleep(work_seconds)  # the simulated work
    try:
        recorded = record_processed(
            connection.get(),
            order_id=order,
            event_id=uuid4(),
            processed_at=datetime.now(UTC),
            correlation_id=correlation_id,
        )
    except psycopg.errors.ForeignKeyViolation:
        log.error("Order does not exist, not processed order_id=%s", order)
        return False
    if recorded:
        log.info("Order processed order_id=%s", order)
    else:
        log.info("Order already processed, skipping order_id=%s", order)
    return recorded


_connections: weakref.WeakKeyDictionary[Celery, WorkerConnection] = weakref.WeakKeyDictionary()


def close_connection(app: Celery) -> None:
    """Close this process's connection of `app`'s tasks (worker shutdown, tests)."""
    connection = _connections.get(app)
    if connection is not None:
        connection.reset()


def register_tasks(app: Celery, settings: Settings) -> None:
    """Register `process_order` on `app`, bound to these settings."""
    connection = _connections[app] = WorkerConnection(settings.dsn)

    # shared=False: the task belongs to this app (and these settings) only.
    @app.task(name=PROCESS_ORDER, bind=True, max_retries=None, acks_late=True, shared=False)
    def process_order(
        task: Task[[str, str | None], bool], order_id: str, correlation_id: str | None = None
    ) -> bool:
        correlation.correlation_id.set(correlation_id or correlation.NONE)
        try:
            return process(
                connection,
                order_id=order_id,
                work_seconds=settings.process_order_seconds,
                correlation_id=correlation_id,
            )
        except psycopg.OperationalError as exc:
            connection.reset()
            delay = min(MAX_RETRY_DELAY_SECONDS, 2 ** min(task.request.retries, 6))
            log.warning(
                "process_order cannot reach PostgreSQL, retrying in %ss order_id=%s error=%s",
                delay,
                order_id,
                exc,
            )
            raise task.retry(exc=exc, countdown=delay) from exc
