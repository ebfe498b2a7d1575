"""/metrics: one order moves the HTTP, cache, outbox, RabbitMQ and Temporal series of the
service, and the Celery worker's own endpoint shows it processed."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.checks import ONE_ORDER_DEADLINE_S, processed_once
from tests.support.api import ApiUser
from tests.support.faults import free_port
from tests.support.sockets import listening_hosts
from tests.support.stack import Stack
from tests.support.waiting import eventually

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: aiohttp.ClientSession, url: str) -> Samples:
    async with http.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_one_order_moves_every_series(stack: Stack, http: aiohttp.ClientSession) -> None:
    celery_port = free_port()
    stack.overrides["CELERY_METRICS_PORT"] = str(celery_port)
    stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()
    order = await user.create_order()
    await processed_once(celery, order["id"])

    async def published() -> Samples | None:
        samples = await scrape(http, f"{stack.base_url}/metrics")
        done = value(samples, "orders_rabbitmq_published_total", event_type="new_order")
        return samples if done >= 1 else None

    samples = await eventually(
        published, deadline_s=ONE_ORDER_DEADLINE_S, what="the publish counted"
    )
    post = {"route": "/orders/", "method": "POST", "status": "201"}
    assert value(samples, "orders_http_requests_total", **post) == 1
    assert (
        value(
            samples, "orders_http_request_duration_seconds_count", route="/orders/", method="POST"
        )
        == 1
    )
    assert value(samples, "orders_cache_operations_total", operation="set", result="stored") >= 1
    assert value(samples, "orders_rabbitmq_deliveries_total", outcome="acked") == 1
    assert ("orders_outbox_rows", frozenset({("state", "unrelayed")})) in samples
    assert value(samples, "orders_outbox_handoffs_total", outcome="relayed") >= 1
    # The Temporal SDK's own series, from the worker's runtime, on the same endpoint.
    assert any(name.startswith("temporal_") for name, _ in samples), "no Temporal series"

    async def celery_counted() -> Samples | None:
        found = await scrape(http, f"http://127.0.0.1:{celery_port}/metrics")
        return found if value(found, "orders_process_order_total", outcome="processed") else None

    worker = await eventually(
        celery_counted, deadline_s=ONE_ORDER_DEADLINE_S, what="celery's metrics"
    )
    assert listening_hosts(celery_port) == {"127.0.0.1"}  # CELERY_METRICS_HOST's default
    assert value(worker, "orders_process_order_total", outcome="processed") == 1
    assert value(worker, "orders_process_order_duration_seconds_count") == 1
