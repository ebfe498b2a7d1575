"""Prometheus metrics of the HTTP edge, and `/metrics` for every service process.

`/metrics` renders this process's registry (HTTP, outbox, RabbitMQ, cache: each package
defines the metrics it moves) followed by the Temporal SDK's own series, scraped from the
runtime's exporter on loopback when the process has one. A rendering is reused for
CACHE_SECONDS (`api.cached`): a flood of scrapes renders once a second, however many
ask. The composition root serves it on the operator listener, and on the public port
too unless METRICS_PUBLIC is false.
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

from api.cached import Cached
from api.operations import Operation, add_routes

log = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"  # one label for every path no route knows: bounded cardinality
SCRAPE_TIMEOUT_SECONDS = 1.0
CACHE_SECONDS = 1.0

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
    cache_seconds: float = CACHE_SECONDS


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


class MetricsExporter:
    """What `/metrics` answers, rendered at most once per `cache_seconds`; one exporter
    per process, shared by every listener that serves it."""

    def __init__(self, config: MetricsConfig) -> None:
        self._config = config
        self._cached = Cached(self._render, seconds=config.cache_seconds)

    async def _render(self) -> bytes:
        body = generate_latest(REGISTRY)
        if self._config.extra_sources:
            timeout = aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                sources = self._config.extra_sources
                extra = await asyncio.gather(*(_scrape(session, u) for u in sources))
            body += b"".join(extra)
        return body

    async def handle(self, request: web.Request) -> web.Response:
        body = await self._cached.get()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def metrics_operations(exporter: MetricsExporter) -> list[Operation]:
    return [
        Operation(
            "GET",
            "/metrics",
            exporter.handle,
            "metrics",
            "Prometheus metrics of this process",
            "health",
            content_type="text/plain",
        )
    ]


def setup_metrics(app: web.Application, exporter: MetricsExporter) -> None:
    add_routes(app, metrics_operations(exporter))
