"""The Celery task `process_order`: simulated work, then its effect recorded once.

Recording the effect and writing the `order_processed` outbox row is one statement
(store.processed), so a task that runs twice has its effect once, and the order's
workflow learns of it through the outbox relay (Celery never talks to Temporal).
PostgreSQL unreachable: Celery retries the task (autoretry, core.backoff.RETRY's delays).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
from celery import Celery, Task

from core import correlation
from core.backoff import RETRY
from processing.connection import WorkerConnection
from processing.metrics import DURATION, TASKS
from processing.names import PROCESS_ORDER
from store.processed import record_processed
from usecases.trace_context import current_traceparent

log = logging.getLogger(__name__)

# The work `process_order` does for one order before recording it: in real life a call to
# a warehouse or a payment provider; here a sleep (`simulated_work`).
Work = Callable[[UUID], None]


def simulated_work(seconds: float) -> Work:
    """The stand-in for real work: `seconds` of sleep (PROCESS_ORDER_SECONDS)."""

    def work(order_id: UUID) -> None:
        time.sleep(seconds)

    return work


def process(
    connection: WorkerConnection,
    *,
    order_id: str,
    work: Work,
    correlation_id: str | None = None,
) -> bool:
    """Do the work and record it; True when this run recorded the effect.

    Raises psycopg.OperationalError when PostgreSQL is unreachable (the task retries).
    """
    with DURATION.time():
        outcome = _process(connection, order_id, work, correlation_id)
    TASKS.labels(outcome).inc()
    return outcome == "processed"


def _process(
    connection: WorkerConnection, order_id: str, work: Work, correlation_id: str | None
) -> str:
    try:
        order = UUID(order_id)
    except ValueError:
        log.error("process_order got an invalid order id order_id=%s", order_id)
        return "invalid"
    work(order)
    try:
        recorded = record_processed(
            connection.get(),
            order_id=order,
            event_id=uuid4(),
            processed_at=datetime.now(UTC),
            correlation_id=correlation_id,
            traceparent=current_traceparent(),  # the relay's signal continues this trace
        )
    except psycopg.errors.ForeignKeyViolation:
        log.error("Order does not exist, not processed order_id=%s", order)
        return "missing"
    except psycopg.OperationalError as exc:
        connection.reset()
        TASKS.labels("retried").inc()
        log.warning(
            "process_order cannot reach PostgreSQL, retrying order_id=%s error=%s", order, exc
        )
        raise
    if recorded:
        log.info("Order processed order_id=%s", order)
        return "processed"
    log.info("Order already processed, skipping order_id=%s", order)
    return "duplicate"


_connections: weakref.WeakKeyDictionary[Celery, WorkerConnection] = weakref.WeakKeyDictionary()


def close_connection(app: Celery) -> None:
    """Close this process's connections of `app`'s tasks (worker shutdown, tests)."""
    connection = _connections.get(app)
    if connection is not None:
        connection.close()


def register_tasks(app: Celery, *, dsn: str, work: Work) -> None:
    """Register `process_order` on `app`, doing `work`, recording into the database at `dsn`."""
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
        task: Task[[str, str | None], bool], order_id: str, correlation_id: str | None = None
    ) -> bool:
        correlation.correlation_id.set(correlation_id or correlation.NONE)
        return process(
            connection,
            order_id=order_id,
            work=work,
            correlation_id=correlation_id,
        )
