"""The e2e stack: a Temporal dev server, and per test the service and a Celery worker
started as processes, with their own RabbitMQ names, task queue and Celery queue."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from tests.conftest import TEST_DSN
from tests.support.processes import Process, celery_worker, service, wait_http_ok
from tests.support.proxy import free_port


def _bin(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    assert path, f"{name} not installed in the venv (pip install -e '.[dev]')"
    return path


@dataclass
class TemporalServer:
    env: WorkflowEnvironment
    address: str

    @property
    def client(self) -> Client:
        return self.env.client


@pytest.fixture(scope="session")
async def temporal_server() -> AsyncIterator[TemporalServer]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_bin("temporal"),
        search_attributes=[
            SearchAttributeKey.for_int("CustomerId"),
            SearchAttributeKey.for_keyword("OrderStatus"),
        ],
    )
    address = env.client.service_client.config.target_host
    yield TemporalServer(env, address)
    await env.shutdown()


@dataclass
class Stack:
    """What one e2e test runs: names unique to the test, processes it started."""

    tmp: Path
    temporal: TemporalServer
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
            "SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
            "DATABASE_URL": TEST_DSN,
            "RUN_MIGRATIONS_ON_STARTUP": "true",
            "REDIS_HOST": "127.0.0.1",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
            "CELERY_QUEUE": f"orders.e2e.{self.suffix}",
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_PASSWORD": "guest",
            "RABBITMQ_EXCHANGE": f"orders.e2e.{self.suffix}",
            "RABBITMQ_NEW_ORDER_QUEUE": self.queue,
            "TEMPORAL_ADDRESS": self.temporal.address,
            "TEMPORAL_TASK_QUEUE": f"orders-e2e-{self.suffix}",
            "PROCESS_ORDER_SECONDS": "0.05",
            "HTTP_PORT": str(self.http_port),
            "HTTP_HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            **self.overrides,
        }

    def start_service(self, name: str = "service") -> Process:
        proc = service(self.env(), self.tmp, name=name).start()
        self.processes.append(proc)
        wait_http_ok(f"{self.base_url}/health", deadline_s=60, proc=proc)
        return proc

    def start_celery(self, name: str = "celery") -> Process:
        proc = celery_worker(self.env(), self.tmp, name=name).start()
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


@pytest.fixture
def stack(tmp_path: Path, temporal_server: TemporalServer) -> Iterator[Stack]:
    s = Stack(tmp=tmp_path, temporal=temporal_server)
    yield s
    s.stop_all()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
async def db() -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(TEST_DSN)
    yield conn
    await conn.close()
