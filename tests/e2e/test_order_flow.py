"""An order followed from POST /orders/ to process_order and its Temporal history."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import asyncpg
import orjson
from aio_pika import DeliveryMode, Message, connect_robust

from tests.e2e.checks import ONE_ORDER_DEADLINE_S, processed_lines, processed_once
from tests.support.api import ApiUser
from tests.support.settings import RABBITMQ_URL
from tests.support.stack import Stack
from tests.support.waiting import eventually
from workflows.names import CUSTOMER_ID, ORDER_STATUS, WORKFLOW_NAME


async def test_order_is_published_processed_and_has_a_history(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    service = stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()

    request_id = f"e2e-{uuid.uuid4().hex}"
    order = await user.create_order(request_id=request_id)
    order_id = order["id"]

    await processed_once(celery, order_id)
    # The request's id travelled with the order: API -> outbox -> Temporal -> RabbitMQ -> Celery.
    [line] = [
        ln
        for ln in celery.output().splitlines()
        if f"order_id={order_id}" in ln and "Order processed" in ln
    ]
    assert f"[{request_id}]" in line
    rows = await db.fetchval(
        "SELECT count(*) FROM processed_orders WHERE order_id = $1", uuid.UUID(order_id)
    )
    assert rows == 1
    published = await db.fetchval(
        "SELECT published_at FROM outbox WHERE aggregate_id = $1 AND event_type = 'new_order'",
        uuid.UUID(order_id),
    )
    assert published is not None

    async def processed_history() -> list[dict[str, Any]] | None:
        status, body = await user.get(f"/orders/{order_id}/history/")
        assert status == 200, body
        return body if any(entry["kind"] == "processed" for entry in body) else None

    history = await eventually(processed_history, deadline_s=ONE_ORDER_DEADLINE_S, what="history")
    # The steps come in the order they happened, each once.
    kinds = [entry["kind"] for entry in history]
    assert kinds[:2] == ["created", "published"], kinds
    assert kinds.count("processed") == 1, kinds
    assert history[1]["details"]["event_type"] == "new_order"

    # The workflow is visible by id and by customer, as the README tells people to look.
    client = stack.temporal.client
    desc = await client.get_workflow_handle(f"order-{order_id}").describe()
    assert desc.workflow_type == WORKFLOW_NAME
    assert desc.typed_search_attributes.get(CUSTOMER_ID) == user.user_id
    assert desc.typed_search_attributes.get(ORDER_STATUS) == "PENDING"
    found = [wf.id async for wf in client.list_workflows(f"CustomerId={user.user_id}")]
    assert f"order-{order_id}" in found

    # SIGTERM stops every role cleanly: exit status 0, no traceback in the log.
    assert service.stop() == 0
    assert "Traceback" not in service.output()


async def test_status_changes_reach_the_workflow_and_complete_it(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()
    order_id = (await user.create_order())["id"]
    await processed_once(celery, order_id)
    assert (await user.patch_status(order_id, "PAID"))[0] == 200
    assert (await user.patch_status(order_id, "SHIPPED"))[0] == 200

    handle = stack.temporal.client.get_workflow_handle(f"order-{order_id}")

    async def completed() -> bool:
        desc = await handle.describe()
        return desc.status is not None and desc.status.name == "COMPLETED"

    await eventually(completed, deadline_s=ONE_ORDER_DEADLINE_S, what="workflow completion")
    status, body = await user.get(f"/orders/{order_id}/history/")
    assert status == 200
    changes = [e for e in body if e["kind"] == "status_changed"]
    assert [(c["details"]["old_status"], c["details"]["new_status"]) for c in changes] == [
        ("PENDING", "PAID"),
        ("PAID", "SHIPPED"),
    ]


async def test_duplicate_delivery_is_processed_once_and_garbage_goes_to_the_dlq(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()
    order_id = (await user.create_order())["id"]
    await processed_once(celery, order_id)
    payload: dict[str, Any] = await db.fetchval(
        "SELECT payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'new_order'",
        uuid.UUID(order_id),
    )
    body = payload if isinstance(payload, (bytes, str)) else orjson.dumps(payload)
    connection = await connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        # The same event again, straight onto the queue: a redelivery.
        await channel.default_exchange.publish(
            Message(
                body if isinstance(body, bytes) else body.encode(),
                delivery_mode=DeliveryMode.PERSISTENT,
            ),
            routing_key=stack.queue,
        )
        await channel.default_exchange.publish(
            Message(b"{not json", delivery_mode=DeliveryMode.PERSISTENT), routing_key=stack.queue
        )
        dlq = await channel.declare_queue(f"{stack.queue}.dlq", durable=True, passive=True)

        async def dead_lettered() -> bytes | None:
            msg = await dlq.get(no_ack=True, fail=False)
            return msg.body if msg else None

        assert (
            await eventually(dead_lettered, deadline_s=ONE_ORDER_DEADLINE_S, what="DLQ")
            == b"{not json"
        )

    await eventually(
        lambda: "already processed" in celery.output(),
        deadline_s=ONE_ORDER_DEADLINE_S,
        what="the duplicate to be seen and skipped",
    )
    assert processed_lines(celery.output(), order_id) == 1
    assert (
        await db.fetchval(
            "SELECT count(*) FROM outbox"
            " WHERE aggregate_id = $1 AND event_type = 'order_processed'",
            uuid.UUID(order_id),
        )
        == 1
    )
