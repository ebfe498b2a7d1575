"""The documented commands marked `run` (README.md, docs/operations.md: fenced blocks, the
commands table) work as written from a fresh clone: each runs in a checkout that holds
nothing but its venv (no `.env`, no data), with no venv on PATH, at a terminal (a prompt
is answered as a person would), against the real servers under names of this test's own.
Each must end with status 0 and never show a traceback. The other marks are checked
without running (tests/unit/test_documented_commands.py)."""

from __future__ import annotations

import shlex
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import asyncpg
import pytest

from tests.support.databases import create_database, drop_database
from tests.support.doc_commands import ROOT, Documented, documented
from tests.support.doc_synopsis import synopsis_to_run
from tests.support.settings import CELERY_BROKER_URL, RABBITMQ_URL, TEST_DSN
from tests.support.stack import TemporalServer
from tests.support.terminal import run_at_terminal

PASSWORD = "a documented password"


def as_written(command: Documented) -> str:
    """The shell line a person runs: a block's line as it is; a table's synopsis in its
    plainest form, from the venv (the table's `orders` is `.venv/bin/orders`, it says)."""
    if command.source == "table":
        return ".venv/bin/" + shlex.join(synopsis_to_run(command.text))
    return command.text


def runnable() -> list[Documented]:
    """The `run` commands, each `orders` subcommand once (a block's line, as written, before
    the table's plainest form of it: the table's options are parsed by the unit test)."""
    seen: dict[str, Documented] = {}
    for command in documented():
        if command.mark == "run" and command.source in ("block", "table"):
            seen.setdefault(_subcommand(command), command)
    return list(seen.values())


def _subcommand(command: Documented) -> str:
    if command.lang == "sql":
        return command.text
    words = shlex.split(as_written(command), comments=True)
    if words[0] != ".venv/bin/orders":
        return " ".join(words)
    path = []
    for word in words[1:]:
        if word.startswith("-") or not word.isalpha():
            break
        path.append(word)
    return " ".join(path[:2])


@dataclass
class Checkout:
    path: Path
    env: dict[str, str]
    dsn: str


@pytest.fixture(scope="module")
def checkout(
    tmp_path_factory: pytest.TempPathFactory, temporal_server: TemporalServer
) -> Iterator[Checkout]:
    path = tmp_path_factory.mktemp("checkout")
    (path / ".venv").symlink_to(ROOT / ".venv")  # `make install` done, nothing else
    suffix = uuid.uuid4().hex[:8]
    dsn = create_database(TEST_DSN, "orders_docs")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(path),
        "SECRET_KEY": "UuS1oRD0cs-cmX2nd0o8xv7sXqv5hJ9qFp1wR4ZtLkQeY3bN6cHa0mVdTgWjPzKs",
        "DATABASE_URL": dsn,
        "REDIS_HOST": "127.0.0.1",
        "CELERY_BROKER_URL": CELERY_BROKER_URL,
        "CELERY_QUEUE": f"orders.docs.{suffix}",
        "RABBITMQ_HOST": "127.0.0.1",
        "RABBITMQ_PASSWORD": "guest",
        "RABBITMQ_EXCHANGE": f"orders.docs.{suffix}",
        "RABBITMQ_NEW_ORDER_QUEUE": f"new_order.docs.{suffix}",
        "RABBITMQ_STATUS_QUEUE": f"order_status_changed.docs.{suffix}",
        "TEMPORAL_ADDRESS": temporal_server.address,
        "TEMPORAL_TASK_QUEUE": f"orders-docs-{suffix}",
    }
    yield Checkout(path, env, dsn)
    drop_database(dsn)


@pytest.fixture(scope="module", autouse=True)
async def rabbitmq_names(checkout: Checkout) -> AsyncIterator[None]:
    yield
    env = checkout.env
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = env["RABBITMQ_NEW_ORDER_QUEUE"]
        for name in (queue, f"{queue}.dlq", env["RABBITMQ_STATUS_QUEUE"]):
            await channel.queue_delete(name)
        await channel.exchange_delete(env["RABBITMQ_EXCHANGE"])


@pytest.mark.parametrize("command", runnable(), ids=lambda c: f"{c.doc}:{c.line}")
async def test_a_documented_command_runs_as_written(
    command: Documented, checkout: Checkout
) -> None:
    if command.lang == "sql":
        connection = await asyncpg.connect(checkout.dsn)
        try:
            await connection.fetch(command.text)
        finally:
            await connection.close()
        return
    line = as_written(command)
    session = run_at_terminal(
        ["bash", "-c", line],
        env=checkout.env,
        cwd=checkout.path,
        answers=[PASSWORD, PASSWORD],  # only if it asks (`orders user create`)
    )
    assert session.returncode == 0, f"{command}\n$ {line}\n{session.output}"
    assert "Traceback" not in session.output, session.output
