"""`orders reset` (`make reset`) empties the local state, every part at once: the database
(dropped, created, migrated), our Redis keys (the cache, the rate-limit buckets, Celery's
queue with the tasks a worker took), our RabbitMQ queues and exchange, and the Temporal dev
server's files; nothing else. Deleting temporal-dev/data alone left workflows of orders
that no longer existed, which showed up in a new user's `CustomerId` search.

Against a throwaway database, Redis database 13 and names of the test's own."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import aiormq
import asyncpg
import psycopg
import pytest
import redis

from core.events import NEW_ORDER
from messaging.topology import declare_topology
from processing.purge import UNACKED, UNACKED_INDEX
from service import celery_config, pipeline
from service.commands import build_parser
from service.settings import Settings
from store.cache import cache_key
from tests.support.databases import create_database, drop_database
from tests.support.faults import free_port
from tests.support.settings import TEST_DSN, make_settings

REDIS_DB = 13  # no other test uses it: the cache's keys there are this test's alone


def reset_settings() -> Settings:
    """Settings on a new, migrated database holding one user, and names of their own."""
    suffix = uuid.uuid4().hex[:8]
    dsn = create_database(TEST_DSN, "orders_reset")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')")
    return make_settings(
        database_url=dsn,
        redis_db=REDIS_DB,
        celery_broker_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
        celery_queue=f"orders.reset.{suffix}",
        rate_limit_key_prefix=f"ratelimit.reset.{suffix}",
        rabbitmq_exchange=f"orders.reset.{suffix}",
        rabbitmq_new_order_queue=f"new_order.reset.{suffix}",
        rabbitmq_status_queue=f"status.reset.{suffix}",
        temporal_address=f"127.0.0.1:{free_port()}",
    )


@pytest.fixture
def settings() -> Iterator[Settings]:
    """For a reset that happens."""
    s = reset_settings()
    yield s
    drop_database(s.dsn)


@pytest.fixture(scope="module")
def kept() -> Iterator[Settings]:
    """For resets refused: the same database for each, since none touches it."""
    s = reset_settings()
    yield s
    drop_database(s.dsn)


@pytest.fixture
def client(settings: Settings) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(settings.redis_url)
    yield r
    r.close()


@pytest.fixture
async def queued_message(settings: Settings) -> AsyncIterator[None]:
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_topology(channel, pipeline.topology(settings))
        await exchange.publish(aio_pika.Message(b"{}"), routing_key=NEW_ORDER)
        yield
        for queue in queues(settings):
            await channel.queue_delete(queue)
        await channel.exchange_delete(settings.rabbitmq_exchange)


def queues(settings: Settings) -> tuple[str, ...]:
    topology = pipeline.topology(settings)
    return (topology.new_order_queue, topology.dlq, topology.status_queue)


async def reset(settings: Settings, *args: str) -> None:
    """`orders reset ARGS`, as the command runs it (in a thread: it runs its own loop)."""
    parsed = build_parser("orders").parse_args(["reset", *args])
    await asyncio.to_thread(parsed.run, settings, parsed)


def temporal_files(folder: Path) -> list[Path]:
    folder.mkdir()
    files = [folder / name for name in ("temporal.db", "temporal.db-wal", "temporal.log")]
    for path in files:
        path.write_text("state")
    return files


async def test_every_part_is_emptied_and_nothing_else(
    settings: Settings,
    client: redis.Redis,
    queued_message: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ours = [cache_key(uuid.uuid4()), f"{settings.rate_limit_key_prefix}:login:abc"]
    theirs = [f"other.{uuid.uuid4().hex}", f"{settings.rate_limit_key_prefix}x:login:abc"]
    for key in ours + theirs:
        client.set(key, "1", ex=300)
    app = celery_config.celery(settings, tasks=False)
    app.send_task("process_order", kwargs={})
    app.close()
    taken = {"ours": [{}, settings.celery_queue, settings.celery_queue], "theirs": [{}, "x", "x"]}
    tags = {who: f"tag-{uuid.uuid4().hex}" for who in taken}
    for who, entry in taken.items():
        client.hset(UNACKED, tags[who], json.dumps(entry))
        client.zadd(UNACKED_INDEX, {tags[who]: 1})
    folder = tmp_path / "temporal-data"
    files = temporal_files(folder)

    try:
        await reset(settings, "--yes", "--temporal-data", str(folder))

        assert capsys.readouterr().out.splitlines()[1:] == [
            "Redis: 1 cache entries, 1 rate-limit buckets, 2 Celery tasks deleted",
            "RabbitMQ: queues and exchange deleted, 1 messages with them",
            "Temporal: 3 files of the dev server removed",
        ]
        conn = await asyncpg.connect(settings.dsn)
        try:  # migrated again, and empty
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
        finally:
            await conn.close()
        assert [client.exists(key) for key in ours] == [0, 0]
        assert [client.exists(key) for key in theirs] == [1, 1]
        assert [k for k in client.scan_iter(f"*{settings.celery_queue}*")] == []
        assert not client.hexists(UNACKED, tags["ours"])
        assert client.hexists(UNACKED, tags["theirs"])
        assert not any(path.exists() for path in files)
        assert not folder.exists()
        connection = await aio_pika.connect(settings.rabbitmq_url)
        async with connection:
            for queue in queues(settings):
                channel = await connection.channel()
                with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity):
                    await channel.declare_queue(queue, passive=True)
    finally:
        client.delete(*theirs)
        client.hdel(UNACKED, *tags.values())
        client.zrem(UNACKED_INDEX, *tags.values())


async def users(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.dsn)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM users")
        return count
    finally:
        await conn.close()


async def test_a_temporal_server_that_answers_stops_it_before_anything_goes(
    kept: Settings, tmp_path: Path
) -> None:
    host, port = kept.temporal_address.rsplit(":", 1)
    folder = tmp_path / "temporal-data"
    files = temporal_files(folder)
    answering = f"a Temporal server answers on {kept.temporal_address}: stop it first"
    with (
        socket.create_server((host, int(port))),  # something answers there
        pytest.raises(SystemExit, match=answering),
    ):
        await reset(kept, "--yes", "--temporal-data", str(folder))
    assert await users(kept) == 1
    assert all(path.exists() for path in files)


async def test_a_session_on_the_database_stops_it(kept: Settings) -> None:
    conn = await asyncpg.connect(kept.dsn)  # as `make run`'s processes hold theirs
    try:
        with pytest.raises(SystemExit, match=r"1 session\(s\) still use database orders_reset_"):
            await reset(kept, "--yes")
    finally:
        await conn.close()
    assert await users(kept) == 1


async def test_without_yes_or_a_terminal_nothing_happens(kept: Settings) -> None:
    with pytest.raises(SystemExit, match="nothing done: confirm with --yes") as refused:
        await reset(kept)  # pytest's stdin is no terminal
    assert f"queues {kept.rabbitmq_new_order_queue}" in str(refused.value)
    assert await users(kept) == 1


async def test_servers_elsewhere_are_not_emptied() -> None:
    remote = make_settings(rabbitmq_host="rabbit.example.com", redis_host="10.0.0.7")
    with pytest.raises(SystemExit, match=r"REDIS_HOST \(10.0.0.7\), .*RABBITMQ_HOST"):
        await reset(remote, "--yes")
