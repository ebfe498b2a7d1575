"""The full stack as `make run` starts it, on a Temporal dev server of the bench's own.

Layouts (`--layout`):
  one    `orders serve` with every role in one process
  split  `orders serve --roles api` and, on BENCH_PIPELINE_PORT,
         `orders serve --roles worker,relay,consumer` (what `make run` runs)
  roles  each role its own process, as the production recipe scales them:
         `orders serve --roles api`, `--roles worker,relay` (BENCH_PIPELINE_PORT) and
         `--roles consumer` (BENCH_CONSUMER_PORT), so that each one's CPU is its own
  run    `make run` itself: supervisord with run/supervisord.conf (the split layout, each
         program through run/with-name, logging at INFO), on the bench's ports; its
         `temporal` program watches the bench's dev server; supervisord and that watcher
         are the `supervisor` group (`bench.supervised`)
all beside `orders celery --concurrency 2` (`make run`'s `celery`). As under `make run`,
all but the API (and the dev server) run at nice 19 (`NICENESS`). PROCESS_ORDER_SECONDS
is 0; queues and the exchange carry the bench database's name, so two engineers' runs on
one RabbitMQ and Redis never take each other's messages; they are emptied at each start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import redis

from bench import servers, supervised
from bench.servers import ROOT, BenchConfig

START_SH = ROOT / "temporal-dev" / "start.sh"
WITH_NAME = ROOT / "run" / "with-name"
LAYOUTS = ("one", "split", "roles", "run")
ALL_ROLES = "api,relay,worker,consumer"
# run/supervisord.conf's CPU_NICENESS and TEMPORAL_DEV_NICENESS; BENCH_NICENESS for an A/B
NICENESS = os.environ.get("BENCH_NICENESS", "19")
PIPELINE_ROLES = {"split": "worker,relay,consumer", "roles": "worker,relay"}


class Temporal:
    """The bench's dev server (temporal-dev/start.sh: SQLite in WAL mode, headless)."""

    def __init__(self, config: BenchConfig) -> None:
        self._data = config.log_dir / "temporal"
        self.address = f"127.0.0.1:{config.temporal_port}"
        self._env = dict(os.environ)
        self._env.update(
            TEMPORAL_DEV_PORT=str(config.temporal_port),
            TEMPORAL_DEV_DATA=str(self._data),
            TEMPORAL_DEV_HEADLESS="1",
            TEMPORAL_DEV_NICENESS=NICENESS,
            TEMPORAL_NAMESPACE="default",
        )

    def start(self) -> None:
        """Start it on the data it has (a restart keeps every workflow)."""
        subprocess.run([str(START_SH), "--background"], env=self._env, check=True)

    def stop(self) -> None:
        subprocess.run([str(START_SH), "--stop"], env=self._env, check=False)

    @property
    def data(self) -> Path:
        """Its data folder (the SQLite files, the pid file)."""
        return self._data

    @property
    def pid(self) -> int:
        return int((self._data / "temporal.pid").read_text())


@contextmanager
def temporal(config: BenchConfig) -> Iterator[Temporal]:
    """A fresh dev server for the block (its data folder is emptied first)."""
    server = Temporal(config)
    shutil.rmtree(config.log_dir / "temporal", ignore_errors=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Queues:
    exchange: str
    new_order: str
    status: str
    celery: str


def queues(config: BenchConfig) -> Queues:
    tag = config.tag
    return Queues(
        f"orders.{tag}", f"new_order.{tag}", f"order_status_changed.{tag}", f"orders.{tag}"
    )


def env(config: BenchConfig, temporal_address: str, rabbitmq_port: int | None) -> dict[str, str]:
    q = queues(config)
    result = servers.service_env(config)
    result.update(
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_TASK_QUEUE="orders-bench",
        RABBITMQ_EXCHANGE=q.exchange,
        RABBITMQ_NEW_ORDER_QUEUE=q.new_order,
        RABBITMQ_STATUS_QUEUE=q.status,
        CELERY_QUEUE=q.celery,
        CELERY_METRICS_PORT=str(config.celery_metrics_port),
        RELAY_POLL_INTERVAL_SECONDS="0.5",
    )
    if rabbitmq_port is not None:
        result.update(RABBITMQ_HOST="127.0.0.1", RABBITMQ_PORT=str(rabbitmq_port))
    return result


async def _delete_rabbitmq_queues(url: str, names: tuple[str, ...]) -> None:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        for name in names:
            channel = await connection.channel()
            await channel.queue_delete(name)


def purge(config: BenchConfig) -> None:
    """Delete this bench's queues (a killed run may have left messages in them)."""
    q = queues(config)
    get = os.environ.get
    url = (
        f"amqp://{get('RABBITMQ_USER', 'guest')}:{get('RABBITMQ_PASSWORD', 'guest')}"
        f"@{get('RABBITMQ_HOST', '127.0.0.1')}:{get('RABBITMQ_PORT', '5672')}/"
    )
    asyncio.run(_delete_rabbitmq_queues(url, (q.new_order, f"{q.new_order}.dlq", q.status)))
    client = redis.Redis(host=config.redis_host, port=config.redis_port, db=config.redis_db)
    with contextlib.closing(client):
        keys = list(client.scan_iter(match=f"{q.celery}*"))
        if keys:
            client.delete(*keys)


@dataclass(frozen=True)
class Stack:
    url: str  # the API
    layout: str
    groups: dict[str, tuple[int, ...]]  # process group name -> root pids (bench.procs)
    # The operator listener of the process with the worker role (the SDK's metrics on its
    # /metrics).
    worker_url: str


@contextmanager
def stack(
    config: BenchConfig,
    temporal_address: str,
    layout: str,
    rabbitmq_port: int | None = None,
    run_logs: bool = False,
) -> Iterator[Stack]:
    """The service's process(es) and a Celery worker, started in that layout; with
    `run_logs`, logging as under `make run` (INFO, each process's lines through
    run/with-name, whose `awk` is the process's child: its CPU and memory count)."""
    if layout not in LAYOUTS:
        raise SystemExit(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}")
    purge(config)
    environ = env(config, temporal_address, rabbitmq_port)
    if layout == "run":
        with supervised.stack(config, environ) as (url, programs):
            yield Stack(url, layout, programs, config.url(config.operator_port))
        return
    level = "INFO" if run_logs else "WARNING"
    environ["LOG_LEVEL"] = level
    if run_logs:  # with-name writes to its own stdout, the process's log file
        environ["WITH_NAME_OUTPUT"] = "/dev/stdout"
    background = {**environ, "CPU_NICENESS": NICENESS}
    url = config.url(config.service_port)
    orders = servers.ORDERS.as_posix()

    def named(name: str, argv: list[str]) -> list[str]:
        return [WITH_NAME.as_posix(), name, *argv] if run_logs else argv

    celery = [orders, "celery", "--concurrency", "2", "--loglevel", level]
    celery += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    api_roles = ALL_ROLES if layout == "one" else "api"
    api = [orders, "serve", "--roles", api_roles, "--port", str(config.service_port)]
    operator = ["--operator-port", str(config.operator_port)]
    if layout == "one":
        api += operator
    with contextlib.ExitStack() as running:
        log_dir = config.log_dir
        celery = named("celery", celery)
        c = running.enter_context(servers.running("stack-celery", celery, background, log_dir))
        groups: dict[str, tuple[int, ...]] = {}
        if layout in PIPELINE_ROLES:
            port = config.pipeline_port
            roles = PIPELINE_ROLES[layout]
            argv = named("pipeline", [orders, "serve", "--roles", roles, "--port", str(port)])
            argv += operator
            p = servers.running("stack-pipeline", argv, background, log_dir, config.url(port))
            groups["pipeline"] = (running.enter_context(p).pid,)
        if layout == "roles":
            port = config.consumer_port
            argv = named("consumer", [orders, "serve", "--roles", "consumer", "--port", str(port)])
            p = servers.running("stack-consumer", argv, background, log_dir, config.url(port))
            groups["consumer"] = (running.enter_context(p).pid,)
        api = named("api" if layout != "one" else "service", api)
        s = running.enter_context(servers.running(f"stack-{layout}", api, environ, log_dir, url))
        groups = {("service" if layout == "one" else "api"): (s.pid,), **groups}
        groups["celery"] = (c.pid,)
        yield Stack(url, layout, groups, config.url(config.operator_port))


V5_FIELDS_WAIT_SECONDS = 30.0


def v5_fields_dropped(s: Stack) -> bool:
    """Wait until the relay sends workflow v5's compatibility fields no more (its /ready
    detail `v5_fields`, checked every TEMPORAL_COMPAT_CHECK_INTERVAL), so a burst measures a
    deployment with no v5 left rather than its first seconds; False if it still does."""
    deadline = time.monotonic() + V5_FIELDS_WAIT_SECONDS
    while time.monotonic() < deadline:
        details: dict[str, object] = {}
        try:
            with urllib.request.urlopen(f"{s.worker_url}/ready", timeout=2) as resp:
                details = json.load(resp).get("details", {})
        except urllib.error.HTTPError as exc:  # 503: not ready, the body still tells
            details = json.load(exc).get("details", {})
        except (urllib.error.URLError, OSError):
            pass
        if details.get("v5_fields") is False:
            return True
        time.sleep(0.5)
    return False
