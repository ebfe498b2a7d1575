"""The Celery application, built in one function from the settings (nothing at import time).

Tasks are acknowledged late and rejected back to the broker when a worker dies, so a
task is never lost once handed over; Redis redelivers an unacknowledged task only after
the visibility timeout, which is kept well above the longest a task may run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from celery import Celery
from celery.signals import worker_process_shutdown

from service.settings import Settings

PROCESS_ORDER: Final = "process_order"
# A task is killed after this long; Redis must not redeliver a task still running.
TASK_TIME_LIMIT_SECONDS: Final = 600
VISIBILITY_TIMEOUT_SECONDS: Final = 3600
BROKER_TIMEOUT_SECONDS: Final = 5.0


def create_celery(settings: Settings) -> Celery:
    from relay.tasks import register_tasks

    app = Celery("orders", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_time_limit=max(TASK_TIME_LIMIT_SECONDS, 10 * settings.process_order_seconds),
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
    register_tasks(app, settings)
    return app


def run_worker(settings: Settings, argv: Sequence[str]) -> None:
    """Run a Celery worker for `process_order` (the `orders celery` command)."""
    from relay.tasks import close_connection

    app = create_celery(settings)
    worker_process_shutdown.connect(lambda **_: close_connection(app), weak=False)
    app.worker_main(["worker", "--loglevel", settings.log_level, *argv])
