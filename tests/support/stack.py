"""The e2e stack: the service and a Celery worker started as processes, as a user starts
them, with RabbitMQ names, a task queue and a Celery queue of the test's own, against the
session's Temporal dev server. The fixtures that build it are in tests/e2e/conftest.py."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.support.faults import free_port
from tests.support.processes import Process, celery_worker, service, wait_http_ok
from tests.support.settings import CELERY_BROKER_URL

ALL_ROLES = "api,worker,relay,consumer"


@dataclass
class TemporalServer:
    env: WorkflowEnvironment

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def address(self) -> str:
        return self.env.client.service_client.config.target_host


@dataclass
class Stack:
    """What one e2e test runs: names unique to the test, processes it started."""

    tmp: Path
    temporal: TemporalServer
    dsn: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    http_port: int = field(default_factory=free_port)
    overrides: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def queue(self) -> str:
        return f"new_order.e2e.{self.suffix}"

    def env(self) -> dict[str, str]:
        return {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "SECRET_KEY": "AUjI2sSalDaWw8WEzN4lY0OkTNMME11qI3nYQh3BE08epMdX2UPD9u1poAbX5vwS",
            "DATABASE_URL": self.dsn,
            "RUN_MIGRATIONS_ON_STARTUP": "true",
            "REDIS_HOST": "127.0.0.1",
            "CELERY_BROKER_URL": CELERY_BROKER_URL,
            "CELERY_QUEUE": f"orders.e2e.{self.suffix}",
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_PASSWORD": "guest",
            "RABBITMQ_EXCHANGE": f"orders.e2e.{self.suffix}",
            "RABBITMQ_NEW_ORDER_QUEUE": self.queue,
            "RABBITMQ_STATUS_QUEUE": f"order_status_changed.e2e.{self.suffix}",
            "TEMPORAL_ADDRESS": self.temporal.address,
            "TEMPORAL_TASK_QUEUE": f"orders-e2e-{self.suffix}",
            "PROCESS_ORDER_SECONDS": "0.05",
            "HTTP_PORT": str(self.http_port),
            "HTTP_HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            "CELERY_METRICS_PORT": "0",  # tests that scrape it choose a port
            "OPERATOR_PORT": "0",  # no operator listener: tests that read it choose a port
            # Hundreds of orders from one user: the general limit is off (the credentials
            # buckets stay at their defaults); buckets of the test's own in Redis.
            "RATE_LIMIT_ENABLED": "false",
            "RATE_LIMIT_KEY_PREFIX": f"ratelimit.e2e.{self.suffix}",
            "MAX_PENDING_ORDERS_PER_USER": "0",  # no cap on one user's open orders
            **self.overrides,
        }

    def start_service(
        self,
        name: str = "service",
        roles: str = ALL_ROLES,
        port: int | None = None,
        operator_port: int = 0,
    ) -> Process:
        """A service process with `roles`, on `port` (default: the stack's HTTP port), its
        operator listener on `operator_port` (0: none)."""
        port = port or self.http_port
        env = {**self.env(), "HTTP_PORT": str(port), "OPERATOR_PORT": str(operator_port)}
        proc = service(env, self.tmp, roles=roles, name=name).start()
        self.processes.append(proc)
        wait_http_ok(f"http://127.0.0.1:{port}/health", deadline_s=60, proc=proc)
        return proc

    def start_celery(self, name: str = "celery") -> Process:
        proc = celery_worker(self.env(), self.tmp, name=name).start()
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then wait for each: they stop side by side,
        not one graceful shutdown after another (seven of them in test_replicas.py)."""
        for proc in reversed(self.processes):
            proc.terminate()
        for proc in reversed(self.processes):
            proc.stop()
