"""`orders celery`: a Celery worker for `process_order` (further arguments go to Celery).

Its pool is CELERY_POOL's: threads by default. process_order sleeps (the simulated work)
and runs one INSERT, both without holding the GIL, so `--concurrency 2` threads in one
process do the work of two prefork children, without two more interpreters in memory
(each child held about 80 MiB). A thread pool does not enforce Celery's hard time limit;
process_order needs none: its sleep is bounded, its connection has a connect timeout and
a statement timeout (processing.connection). `prefork` stays available for CPU-bound work.

Its metrics (and a prefork pool's children's) are served by this process on
CELERY_METRICS_PORT, in prometheus_client's multiprocess mode, which must be chosen before
the client is first imported: so when PROMETHEUS_MULTIPROC_DIR is not set, the command
sets it and executes itself again (same pid).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Any

from service.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OWNED_ENV = "ORDERS_METRICS_DIR_OWNED"  # this command made the directory: remove it at exit


def register(sub: Any) -> None:
    sub.add_parser(
        "celery", help="run a Celery worker for process_order (args go to Celery)"
    ).set_defaults(run=run, passthrough=True)


def run(settings: Settings, args: argparse.Namespace) -> None:
    if MULTIPROC_ENV not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="orders-celery-metrics-")
        env = {**os.environ, MULTIPROC_ENV: metrics_dir, OWNED_ENV: "1"}
        argv = [sys.executable, "-m", "service", "celery", *args.rest]
        os.execve(sys.executable, argv, env)
    try:
        _work(settings, list(args.rest))
    finally:
        if os.environ.get(OWNED_ENV) == "1":
            shutil.rmtree(os.environ[MULTIPROC_ENV], ignore_errors=True)


def _work(settings: Settings, argv: list[str]) -> None:
    from celery.signals import worker_process_shutdown, worker_shutdown
    from prometheus_client import multiprocess

    from processing.tasks import close_connection
    from service import celery_config
    from service.celery_metrics import serve_multiprocess_metrics
    from service.logs import quiet_celery_task_lines
    from service.tracing import start_from

    # Before the pool forks: the SDK restarts its export thread in each child.
    tracer_provider = start_from(settings)
    app = celery_config.celery(settings)

    def child_exits(**_: object) -> None:
        close_connection(app)
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
        if tracer_provider is not None:
            tracer_provider.force_flush()  # a child exits without running atexit handlers

    def worker_exits(**_: object) -> None:
        close_connection(app)  # the pool threads' connections (threads and solo pools)

    worker_process_shutdown.connect(child_exits, weak=False)
    worker_shutdown.connect(worker_exits, weak=False)
    if settings.celery_metrics_port:
        serve_multiprocess_metrics(settings.celery_metrics_port, settings.celery_metrics_host)
    # The pool from CELERY_POOL, unless the arguments name one (the last --pool wins).
    pool = ["--pool", settings.celery_pool]
    quiet_celery_task_lines()
    app.worker_main(["worker", "--loglevel", settings.log_level, *pool, *argv])
