"""The e2e stack: a Temporal dev server, and per test the service and a Celery worker
started as processes, with their own RabbitMQ names, task queue and Celery queue."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import aiohttp
import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.conftest import TEST_DSN
from tests.support.databases import create_database, drop_database
from tests.support.faults import free_port
from tests.support.processes import Process, celery_worker, service, wait_http_ok

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
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


@pytest.fixture(scope="session")
def temporal_server(temporal_env: WorkflowEnvironment) -> TemporalServer:
    return TemporalServer(temporal_env)


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
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
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
        for proc in reversed(self.processes):
            proc.stop()


@pytest.fixture
async def stack(tmp_path: Path, temporal_server: TemporalServer) -> AsyncIterator[Stack]:
    """A database, RabbitMQ names, a task queue and a Celery queue of the test's own."""
    s = Stack(tmp=tmp_path, temporal=temporal_server, dsn=create_database(TEST_DSN, "orders_e2e"))
    yield s
    s.stop_all()
    drop_database(s.dsn)
    env = s.env()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for queue in (s.queue, f"{s.queue}.dlq", env["RABBITMQ_STATUS_QUEUE"]):
            await channel.queue_delete(queue)
        await channel.exchange_delete(env["RABBITMQ_EXCHANGE"])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.dsn)
    yield conn
    await conn.close()
