"""Emptying the local state (`orders reset`, `make reset`), every part of it at once, so
that nothing of an old order outlives it (a workflow left in Temporal's data showed up in a
new user's `CustomerId` search):

- the database: dropped, created and migrated again;
- our Redis keys: the order cache, the rate-limit buckets (RATE_LIMIT_KEY_PREFIX) and the
  Celery queue (CELERY_QUEUE, with the tasks a worker took and never acknowledged); only
  those keys, never a FLUSHALL;
- our RabbitMQ queues (new orders, its DLQ, status events) and exchange;
- the Temporal dev server's files in its data folder (temporal-dev/data).

It refuses before touching anything when a server is not on this machine, when a Temporal
server answers on TEMPORAL_ADDRESS (it holds its files open, and its workflows would
outlive the reset), or when a session still uses the database (`make run` running).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import redis

from messaging.topology import delete_topology
from processing.purge import purge_queue
from service import celery_config, pipeline
from service.settings import Settings
from store.cache import CACHE_KEY_PREFIX
from store.migrate import apply_migrations, database_sessions, drop_database

# What `temporal server start-dev` (temporal-dev/start.sh) keeps in its data folder.
TEMPORAL_FILES = (
    "temporal.db",
    "temporal.db-wal",
    "temporal.db-shm",
    "temporal.log",
    "temporal.pid",
)


class Refused(Exception):
    """The reset did not start: the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Reset:
    database: str
    migrations: int
    cache_entries: int
    rate_limit_buckets: int
    celery_tasks: int
    rabbitmq_messages: int
    temporal_files: list[str]


def _is_local(host: str | None) -> bool:
    if not host or host.startswith("/") or host == "localhost":  # none or "/...": a socket
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "localhost", int(port)


def _answers(address: str) -> bool:
    try:
        with socket.create_connection(_host_port(address), timeout=1):
            return True
    except OSError:
        return False


def database_name(settings: Settings) -> str:
    return urlsplit(settings.dsn).path.lstrip("/")


def check(settings: Settings, temporal_data: Path | None) -> None:
    """Raise Refused when the reset must not start."""
    servers = {
        "DATABASE_URL": urlsplit(settings.dsn).hostname,
        "REDIS_HOST": settings.redis_host,
        "CELERY_BROKER_URL": urlsplit(settings.broker_url).hostname,
        "RABBITMQ_HOST": settings.rabbitmq_host,
    }
    remote = [f"{name} ({host})" for name, host in servers.items() if not _is_local(host)]
    if remote:
        raise Refused(f"a reset empties servers on this machine only: {', '.join(remote)}")
    if temporal_data is not None and _answers(settings.temporal_address):
        raise Refused(
            f"a Temporal server answers on {settings.temporal_address}: stop it first (Ctrl-C"
            " `make run`, or temporal-dev/start.sh --stop), so that its data goes too"
        )
    sessions = database_sessions(settings.dsn)
    if sessions:
        raise Refused(
            f"{sessions} session(s) still use database {database_name(settings)}"
            " (is `make run` running?): stop them first"
        )


def _glob_escaped(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _delete_matching(client: redis.Redis, prefix: str) -> int:
    deleted, batch = 0, []
    for key in client.scan_iter(match=_glob_escaped(prefix) + "*", count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.unlink(*batch)
            batch.clear()
    return deleted + (client.unlink(*batch) if batch else 0)


async def _delete_queues(settings: Settings) -> int:
    connection = await aio_pika.connect(
        settings.rabbitmq_url, timeout=settings.rabbitmq_timeout_seconds
    )
    async with connection:
        return await delete_topology(await connection.channel(), pipeline.topology(settings))


def _remove_temporal_files(folder: Path) -> list[str]:
    """Only the dev server's own files: a folder given by mistake loses nothing else."""
    removed = []
    for name in TEMPORAL_FILES:
        path = folder / name
        if path.exists():
            path.unlink()
            removed.append(str(path))
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return removed


def reset(settings: Settings, temporal_data: Path | None) -> Reset:
    """Check, then empty every part; the database first (the part most likely to fail)."""
    check(settings, temporal_data)
    drop_database(settings.dsn)
    migrations = apply_migrations(settings.dsn)
    temporal_files = _remove_temporal_files(temporal_data) if temporal_data else []
    cache = redis.Redis.from_url(settings.redis_url)
    try:
        cache_entries = _delete_matching(cache, CACHE_KEY_PREFIX)
        buckets = _delete_matching(cache, settings.rate_limit_key_prefix + ":")
    finally:
        cache.close()
    app = celery_config.celery(settings, tasks=False)
    broker = redis.Redis.from_url(settings.broker_url)
    try:
        purged = purge_queue(app, broker, settings.celery_queue)
    finally:
        broker.close()
        app.close()
    messages = asyncio.run(_delete_queues(settings))
    return Reset(
        database=database_name(settings),
        migrations=migrations,
        cache_entries=cache_entries,
        rate_limit_buckets=buckets,
        celery_tasks=purged.waiting + purged.unacknowledged,
        rabbitmq_messages=messages,
        temporal_files=temporal_files,
    )
