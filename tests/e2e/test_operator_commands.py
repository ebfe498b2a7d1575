"""The `orders` commands an operator runs, against the real servers and a real service."""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import Any

import aio_pika
import aiohttp
import asyncpg
import orjson

from messaging.consumer import DLQ_REASON_HEADER
from messaging.dlq import REPLAYED_HEADER
from tests.support.api import ApiUser
from tests.support.faults import free_port
from tests.support.processes import ORDERS
from tests.support.settings import RABBITMQ_URL
from tests.support.stack import Stack
from tests.support.terminal import run_at_terminal


def orders(stack: Stack, *argv: str, stdin: str | None = "") -> subprocess.CompletedProcess[str]:
    """`orders ...` with no terminal (a session of its own), `stdin` on its stdin (None:
    nothing at all, /dev/null)."""
    return subprocess.run(
        [ORDERS, *argv],
        env=stack.env(),
        cwd=stack.tmp,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


async def test_outbox_status_counts_what_waits(stack: Stack, http: aiohttp.ClientSession) -> None:
    stack.start_service(roles="api")  # no relay: the rows wait
    user = await ApiUser(http, stack.base_url).sign_up()
    started = time.monotonic()
    for _ in range(2):
        await user.create_order()

    status = as_json(orders(stack, "outbox", "status", "--json"))
    waited = time.monotonic() - started
    assert status["unrelayed"] == 2
    assert status["unpublished"] == 2
    assert 0 <= status["oldest_unrelayed_seconds"] <= waited + 1  # the first order's age
    text = orders(stack, "outbox", "status")
    assert "waiting for the relay   2" in text.stdout


async def test_dlq_list_shows_and_keeps_replay_sends_back(stack: Stack) -> None:
    assert as_json(orders(stack, "dlq", "list", "--json")) == []  # declares the topology too
    body = b'{"event_type": "new_order", "order_id": "not-a-uuid"}'
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        message = aio_pika.Message(
            body, message_id="m-1", headers={DLQ_REASON_HEADER: "bad field: order_id"}
        )
        await channel.default_exchange.publish(message, routing_key=f"{stack.queue}.dlq")

        for _ in range(2):  # listing does not consume
            [letter] = as_json(orders(stack, "dlq", "list", "--json"))
            assert letter["message_id"] == "m-1"
            assert letter["reason"] == "bad field: order_id"
            assert letter["body"] == body.decode()

        replay = as_json(orders(stack, "dlq", "replay", "--limit", "5", "--json"))
        [replayed] = replay["sent"]
        assert replayed["message_id"] == "m-1"
        assert replay["came_back"] is None
        assert as_json(orders(stack, "dlq", "list", "--json")) == []
        queue = await channel.get_queue(stack.queue)
        back = await queue.get(no_ack=True, timeout=5)
        assert back.body == body
        assert back.message_id == "m-1"
        assert back.headers[REPLAYED_HEADER] == 1
        assert DLQ_REASON_HEADER not in back.headers


async def test_user_create_makes_an_account_that_can_log_in(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    stack.start_service()
    email = f"ops-{uuid.uuid4().hex[:10]}@example.com"
    password = "an operator's password"
    made = as_json(
        orders(stack, "user", "create", email, "--password-stdin", "--json", stdin=password)
    )
    assert made["email"] == email
    async with http.post(
        f"{stack.base_url}/token/", data={"username": email, "password": password}
    ) as resp:
        assert resp.status == 200

    again = orders(stack, "user", "create", email, "--password-stdin", stdin=password)
    assert again.returncode != 0
    assert "email already registered" in again.stderr
    short = orders(stack, "user", "create", "x@example.com", "--password-stdin", stdin="short")
    assert short.returncode != 0
    assert "password" in short.stderr


async def test_user_create_asks_at_a_terminal_and_says_so_without_one(
    stack: Stack, db: asyncpg.Connection
) -> None:
    """The password from a prompt on the terminal (twice, the same), or stdin with
    --password-stdin; with neither, or an empty stdin, a one-line error and exit status 2
    (it was an EOFError traceback)."""
    email = f"ops-{uuid.uuid4().hex[:10]}@example.com"
    cases: tuple[tuple[str | None, list[str], str], ...] = (
        (None, [], "no terminal to ask for the password on: give it on stdin with"),
        ("", [], "no terminal to ask for the password on"),
        ("", ["--password-stdin"], "no password on stdin"),
    )
    for stdin, flags, said in cases:
        refused = orders(stack, "user", "create", email, *flags, stdin=stdin)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(f"orders user create: {said}")
        assert "Traceback" not in refused.stderr

    argv, env = [ORDERS, "user", "create", email, "--json"], stack.env()
    differ = run_at_terminal(argv, env=env, cwd=stack.tmp, answers=["one password", "another"])
    assert differ.returncode == 2
    assert "the two passwords differ" in differ.output
    assert await db.fetchval("SELECT count(*) FROM users WHERE email = $1", email) == 0

    password = "an operator's password"
    made = run_at_terminal(argv, env=env, cwd=stack.tmp, answers=[password, password])
    assert made.returncode == 0, made.output
    assert "password: " in made.output
    assert "password (again): " in made.output
    assert password not in made.output  # never echoed
    user_id = await db.fetchval("SELECT id FROM users WHERE email = $1", email)
    assert f'"id": {user_id}' in made.output


async def test_user_create_without_postgresql_is_one_line(stack: Stack) -> None:
    stack.overrides["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/orders"
    down = orders(stack, "user", "create", "a@example.com", "--password-stdin", stdin="pw pw pw pw")
    assert down.returncode == 1
    assert "Traceback" not in down.stderr
    assert "orders user create: cannot use PostgreSQL (DATABASE_URL or POSTGRES_*):" in (
        down.stderr
    )


async def test_dlq_replay_stops_on_one_that_comes_back_and_discard_needs_a_reason(
    stack: Stack,
) -> None:
    """The DLQ bound to the exchange as the new-order queue is: a replayed message is back
    at once, as when the consumer still refuses it."""
    assert as_json(orders(stack, "dlq", "list", "--json")) == []  # declares the topology
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for n in (1, 2):
            message = aio_pika.Message(
                b"{}", message_id=f"m-{n}", headers={DLQ_REASON_HEADER: "bad"}
            )
            await channel.default_exchange.publish(message, routing_key=f"{stack.queue}.dlq")
        dlq = await channel.get_queue(f"{stack.queue}.dlq")
        await dlq.bind(stack.env()["RABBITMQ_EXCHANGE"], routing_key="new_order")

        replay = orders(stack, "dlq", "replay", "--limit", "10")
        assert replay.returncode == 1
        assert replay.stdout.splitlines() == [
            f"replayed 2 message(s) to {stack.queue}",
            f"stopped: message m-1 came straight back to {stack.queue}.dlq (no reason given): its"
            " cause is not fixed; it stays there (orders dlq list)",
        ]
        await dlq.unbind(stack.env()["RABBITMQ_EXCHANGE"], routing_key="new_order")

    no_reason = orders(stack, "dlq", "discard", "m-1")
    assert no_reason.returncode == 2
    assert "--reason" in no_reason.stderr
    discard = orders(stack, "dlq", "discard", "m-2", "m-7", "--reason", "test order, deleted")
    assert discard.returncode == 1  # m-7 is not there
    assert discard.stdout.splitlines() == [
        "discarded 1 message(s)",
        "  m-2  -",
        "not in the DLQ: m-7",
    ]
    assert "dlq_discarded" in discard.stderr
    assert "reason=test order, deleted" in discard.stderr
    assert [d["message_id"] for d in as_json(orders(stack, "dlq", "list", "--json"))] == ["m-1"]


async def test_outbox_discard_throws_away_a_parked_row_with_its_reason(
    stack: Stack, db: asyncpg.Connection
) -> None:
    row, order = uuid.uuid4(), uuid.uuid4()
    await db.execute(
        "INSERT INTO outbox (id, aggregate_id, event_type, payload, parked_at, parked_reason)"
        " VALUES ($1, $2, 'new_order', '{}', now(), 'cannot be relayed: no order')",
        row,
        order,
    )
    assert orders(stack, "outbox", "discard", str(row)).returncode == 2  # --reason required
    [parked] = as_json(orders(stack, "outbox", "parked", "--json"))
    assert parked["id"] == str(row)

    done = orders(stack, "outbox", "discard", str(row), "--reason", "written by hand", "--json")
    [discarded] = as_json(done)["discarded"]
    assert discarded["aggregate_id"] == str(order)
    assert f"outbox_discarded event_id={row} order_id={order}" in done.stderr
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE id = $1", row) == 0
    again = orders(stack, "outbox", "discard", str(row), "--reason", "written by hand")
    assert again.returncode == 1
    assert again.stdout.splitlines() == ["discarded 0 parked row(s)", f"not a parked row: {row}"]
