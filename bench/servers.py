"""The servers under test, started by the benchmark itself, and their database.

The service runs as a user runs it (`orders serve --roles api`), on a dedicated database
(orders_bench by default) migrated first and emptied at each run; the bare baseline runs
`python -m bench.bare_server` on the same database and Redis. Every port is the bench's
own (BENCH_*), so a run never collides with `make run` or another engineer's bench.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from store.migrate import apply_migrations

ROOT = Path(__file__).resolve().parents[1]
ORDERS = Path(sys.executable).with_name("orders")


@dataclass(frozen=True)
class BenchConfig:
    dsn: str
    redis_host: str
    redis_port: int
    redis_db: int
    service_port: int
    bare_port: int
    temporal_port: int
    pipeline_port: int  # the pipeline process of the `split` layout
    celery_metrics_port: int
    operator_port: int  # the operator listener of the process with the worker role
    consumer_port: int  # the consumer process of the `roles` layout
    log_dir: Path = ROOT / ".run" / "bench"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @classmethod
    def from_env(cls) -> BenchConfig:
        env = os.environ.get
        return cls(
            dsn=env("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/orders_bench"),
            redis_host=env("BENCH_REDIS_HOST", "127.0.0.1"),
            redis_port=int(env("BENCH_REDIS_PORT", "6379")),
            redis_db=int(env("BENCH_REDIS_DB", "0")),
            service_port=int(env("BENCH_SERVICE_PORT", "18100")),
            bare_port=int(env("BENCH_BARE_PORT", "18101")),
            temporal_port=int(env("BENCH_TEMPORAL_PORT", "17233")),
            pipeline_port=int(env("BENCH_PIPELINE_PORT", "18102")),
            celery_metrics_port=int(env("BENCH_CELERY_METRICS_PORT", "18103")),
            operator_port=int(env("BENCH_OPERATOR_PORT", "18104")),
            consumer_port=int(env("BENCH_CONSUMER_PORT", "18105")),
        )

    @property
    def database(self) -> str:
        return urlsplit(self.dsn).path.lstrip("/")

    @property
    def tag(self) -> str:
        """Names on the shared brokers (queues, exchange): one per bench database."""
        return self.database

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"


def prepare_database(config: BenchConfig) -> None:
    """Migrate the bench database and empty it, so every run starts from the same state."""
    name = config.database
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to empty database {name!r}: its name must end in _bench")
    apply_migrations(config.dsn)
    with psycopg.connect(config.dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE users, orders, outbox, relays_listening RESTART IDENTITY CASCADE")
        conn.execute("VACUUM ANALYZE")


def service_env(config: BenchConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SECRET_KEY=config.secret_key,
        ACCESS_TOKEN_EXPIRE_MINUTES="240",
        DATABASE_URL=config.dsn,
        RUN_MIGRATIONS_ON_STARTUP="false",
        REDIS_HOST=config.redis_host,
        REDIS_PORT=str(config.redis_port),
        REDIS_DB=str(config.redis_db),
        RABBITMQ_PASSWORD=env.get("RABBITMQ_PASSWORD", "guest"),
        SERVICE_ROLES="api",
        HTTP_HOST="127.0.0.1",
        OPERATOR_PORT="0",  # none, but where the engine's metrics are read (bench/stack.py)
        PROCESS_ORDER_SECONDS="0",
        LOG_LEVEL="WARNING",
        LOG_FORMAT="text",
        # The load comes from one address at thousands of requests a second: rate limiting
        # off, and room in the (always on) credentials buckets for the users it registers.
        RATE_LIMIT_ENABLED="false",
        AUTH_RATE_LIMIT_CAPACITY="100000",
        AUTH_RATE_LIMIT_REFILL_RATE="100000",
        # Each writer makes thousands of orders: no cap on open ones (the create statement
        # and its user-row lock are the same with or without it).
        MAX_PENDING_ORDERS_PER_USER="0",
        RATE_LIMIT_KEY_PREFIX=f"ratelimit.bench.{secrets.token_hex(4)}",
    )
    return env


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with {process.returncode}; log:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer /health within 60 s; log: {log}")


@contextmanager
def running(
    name: str, argv: list[str], env: dict[str, str], log_dir: Path, url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (in its own process group) for the block; waits for `url`/health."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            if url:
                wait_healthy(url, process, log)
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # for its CPU time (procs.cpu_seconds)


@contextmanager
def service(config: BenchConfig) -> Iterator[Server]:
    url = config.url(config.service_port)
    argv = [str(ORDERS), "serve", "--roles", "api", "--port", str(config.service_port)]
    with running("service", argv, service_env(config), config.log_dir, url) as process:
        yield Server(url, process.pid)


@contextmanager
def bare(config: BenchConfig) -> Iterator[Server]:
    url = config.url(config.bare_port)
    argv = [
        sys.executable,
        "-m",
        "bench.bare_server",
        "--port",
        str(config.bare_port),
        "--dsn",
        config.dsn,
        "--redis-url",
        config.redis_url,
    ]
    with running("bare", argv, service_env(config), config.log_dir, url) as process:
        yield Server(url, process.pid)
