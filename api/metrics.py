"""Prometheus metrics of the HTTP edge, and `/metrics` for every service process.

`/metrics` renders this process's registry (HTTP, outbox, RabbitMQ, cache: each package
defines the metrics it moves) followed by the Temporal SDK's own series, scraped from the
runtime's exporter on loopback when the process has one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from api.operations import Operation, add_routes

log = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"  # one label for every path no route knows: bounded cardinality
SCRAPE_TIMEOUT_SECONDS = 1.0

REQUESTS = Counter(
    "orders_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "orders_http_request_duration_seconds", "Time to answer an HTTP request", ["route", "method"]
)
IN_FLIGHT = Gauge("orders_http_requests_in_flight", "HTTP requests being answered")
RATE_LIMITED = Counter(
    "orders_http_rate_limited_total", "Requests refused with 429, by bucket", ["bucket"]
)


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    # Other exporters of this process to append, e.g. the Temporal runtime's.
    extra_sources: tuple[str, ...] = ()


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


# The labelled series, looked up once per (route, method, status) rather than per request
# (`labels()` validates and locks each time). Routes and statuses are bounded, so is this.
_SERIES: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}


def _series(route: str, method: str, status: int) -> tuple[Histogram, Counter]:
    key = (route, method, status)
    found = _SERIES.get(key)
    if found is None:
        found = _SERIES[key] = (
            LATENCY.labels(route, method),
            REQUESTS.labels(route, method, str(status)),
        )
    return found


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route, method = _route(request), request.method
    started = time.perf_counter()
    status = 500
    IN_FLIGHT.inc()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        IN_FLIGHT.dec()
        latency, requests = _series(route, method, status)
        latency.observe(time.perf_counter() - started)
        requests.inc()


async def _scrape(session: aiohttp.ClientSession, url: str) -> bytes:
    try:
        async with session.get(url) as resp:
            return await resp.read() if resp.status == 200 else b""
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("metrics source unreachable url=%s error=%r", url, exc)
        return b""


def metrics_operations(config: MetricsConfig) -> list[Operation]:
    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        if config.extra_sources:
            timeout = aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                extra = await asyncio.gather(*(_scrape(session, u) for u in config.extra_sources))
            body += b"".join(extra)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    return [
        Operation(
            "GET",
            "/metrics",
            metrics,
            "metrics",
            "Prometheus metrics of this process",
            "health",
            content_type="text/plain",
        )
    ]


def setup_metrics(app: web.Application, config: MetricsConfig) -> None:
    add_routes(app, metrics_operations(config))
