"""The Celery task `process_order`: `processing.order.process` on the worker's connection.

PostgreSQL unreachable: Celery retries the task (autoretry, core.backoff.RETRY's delays).
Another delivery of the order holding its claim: the task retries once that claim would
have run out, so a worker that died after claiming delays its order by the lease, not
by the workflow's republish.
"""

from __future__ import annotations

import weakref
from typing import Any

import psycopg
from celery import Celery, Task

from core import correlation
from core.backoff import RETRY
from processing.connection import WorkerConnection
from processing.names import PROCESS_ORDER
from processing.order import Outcome, Work, process

# A busy order's retry comes this long after the other claim would run out.
BUSY_MARGIN_SECONDS = 1.0

_connections: weakref.WeakKeyDictionary[Celery, WorkerConnection] = weakref.WeakKeyDictionary()


def close_connection(app: Celery) -> None:
    """Close this process's connections of `app`'s tasks (worker shutdown, tests)."""
    connection = _connections.get(app)
    if connection is not None:
        connection.close()


def register_tasks(app: Celery, *, dsn: str, work: Work, lease_seconds: float) -> None:
    """Register `process_order` on `app`, doing `work` under a claim of `lease_seconds`,
    recording into the database at `dsn`."""
    connection = _connections[app] = WorkerConnection(dsn)

    # shared=False: the task belongs to this app only. Retries: Celery's exponential
    # backoff (factor * 2**retries, capped, full jitter) is core.backoff.RETRY's.
    @app.task(
        name=PROCESS_ORDER,
        bind=True,
        acks_late=True,
        shared=False,
        autoretry_for=(psycopg.OperationalError,),
        max_retries=None,
        retry_backoff=int(RETRY.initial),
        retry_backoff_max=int(RETRY.maximum),
        retry_jitter=True,
    )
    def process_order(
        task: Task[[str, str | None, dict[str, Any] | None], bool],
        order_id: str,
        correlation_id: str | None = None,
        event: dict[str, Any] | None = None,
    ) -> bool:
        # `event`: the envelope (core.envelope) the consumer sends; `correlation_id`: what
        # a task queued before it did carried instead.
        if event is not None:
            correlation_id = str(event.get("correlation_id") or "") or None
        correlation.correlation_id.set(correlation_id or correlation.NONE)
        result = process(
            connection,
            order_id=order_id,
            work=work,
            lease_seconds=lease_seconds,
            correlation_id=correlation_id,
        )
        if result.outcome is Outcome.BUSY:
            raise task.retry(countdown=result.retry_in_seconds + BUSY_MARGIN_SECONDS)
        return result.outcome is Outcome.PROCESSED
