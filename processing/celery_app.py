"""The Celery application, built in one function from plain values (nothing at import time).

Tasks are acknowledged late and rejected back to the broker when a worker dies, so a
task is never lost once handed over; Redis redelivers an unacknowledged task only after
the visibility timeout, which is kept well above the longest a task may run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from celery import Celery

# A task is killed after this long; Redis must not redeliver a task still running.
TASK_TIME_LIMIT_SECONDS: Final = 600
VISIBILITY_TIMEOUT_SECONDS: Final = 3600
BROKER_TIMEOUT_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class CeleryConfig:
    broker_url: str
    queue: str
    dsn: str  # PostgreSQL, where process_order records its effect
    work_seconds: float  # the simulated work of process_order (PROCESS_ORDER_SECONDS)
    # process_order's claim on an order: no other delivery does its work meanwhile; a
    # claim whose worker died runs out after this. Longer than the work.
    lease_seconds: float  # PROCESS_ORDER_LEASE_SECONDS


def create_celery(config: CeleryConfig, *, tasks: bool = True) -> Celery:
    """The app; `tasks=False` for a sender (the consumer sends `process_order` by name), which
    then loads neither the task's code nor psycopg."""
    app = Celery("orders", broker=config.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=config.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_time_limit=max(TASK_TIME_LIMIT_SECONDS, 10 * config.work_seconds),
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
        },
        broker_connection_timeout=BROKER_TIMEOUT_SECONDS,
        broker_connection_retry_on_startup=True,
        # Logging is configured once by the process's main(); Celery must not replace it.
        worker_hijack_root_logger=False,
    )
    if tasks:
        from processing.order import simulated_work
        from processing.tasks import register_tasks

        register_tasks(
            app,
            dsn=config.dsn,
            work=simulated_work(config.work_seconds),
            lease_seconds=config.lease_seconds,
        )
    return app
