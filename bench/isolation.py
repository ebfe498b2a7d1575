"""Isolation: the API keeps taking orders while a dependency of the pipeline is away.

On a full stack whose RabbitMQ connection goes through a TCP proxy in this process (the
shared RabbitMQ is never stopped; tests/support/faults.py's proxy), POST /orders/ runs
under load for `plan.outage_seconds` twice: once with the bench's own Temporal server
stopped, once with the proxy cut (RabbitMQ unreachable). Each time: req/s and errors,
beside the API role alone, then the dependency comes back and the clock runs until every
order is processed (the relay's, the worker's and the activities' backoff included).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench import fullstack, servers, stack
from bench.drain import drain
from bench.fixtures import BenchUser
from bench.names import API_ALONE
from bench.orders import warm
from bench.plan import Plan
from bench.report import Results
from bench.routes import HEADER, row
from tests.support.faults import TcpProxy, tcp_proxy

ISOLATION_DRAIN = 2  # times plan.drain_timeout: an outage's whole backlog should drain


@dataclass(frozen=True)
class Outage:
    dependency: str  # "Temporal"
    state: str  # "stopped"
    away: Callable[[], None]
    back: Callable[[], None]


def _outage(
    outage: Outage,
    config: servers.BenchConfig,
    s: stack.Stack,
    users: list[BenchUser],
    plan: Plan,
    results: Results,
) -> bool:
    """POST under load while the dependency is away, then back and the drain; True when
    it failed."""
    dependency, layout = outage.dependency, s.layout
    what = f"{dependency} {outage.state} [{layout}]"
    outage.away()
    try:
        result = fullstack.post_load(s.url, users, plan, plan.outage_seconds, warmup=0)
    finally:
        outage.back()
    drained = asyncio.run(drain(config.dsn, ISOLATION_DRAIN * plan.drain_timeout))
    print(f"\nPOST with {what}")
    print(HEADER)
    print(row("full stack", result))
    print(f"  once it is back: {drained.describe()}")
    if drained.samples:
        print(f"  processed/waiting for the relay, every 5 s: {drained.series()}")
    results.add(f"POST with {what}", result.rps, "req/s", API_ALONE)
    results.add(f"POST errors with {what}", result.errors, "errors")
    if drained.first_seconds is not None:
        name = f"time to the first order processed once {dependency} is back [{layout}]"
        results.add(name, drained.first_seconds, "s")
    results.add(f"time to drain once {dependency} is back [{layout}]", drained.seconds, "s")
    return bool(result.errors) or not result.requests or not drained.complete


def outages(
    config: servers.BenchConfig,
    s: stack.Stack,
    temporal: stack.Temporal,
    proxy: TcpProxy,
    users: list[BenchUser],
    plan: Plan,
    results: Results,
) -> bool:
    """Temporal stopped, then RabbitMQ unreachable, on a running stack whose RabbitMQ
    connection goes through `proxy`; True when one got errors or did not drain."""
    failed = False
    for outage in (
        Outage("Temporal", "stopped", temporal.stop, temporal.start),
        Outage("RabbitMQ", "unreachable", proxy.cut, proxy.restore),
    ):
        failed |= _outage(outage, config, s, users, plan, results)
    return failed


def run(config: servers.BenchConfig, plan: Plan, layout: str, results: Results) -> bool:
    """Both outages on a stack of their own; True when one got errors or did not drain."""
    print(f"\n== isolation, layout {layout!r}")
    if results.latest(API_ALONE) is None:
        fullstack.api_alone(config, plan, results)
    servers.prepare_database(config)
    with (
        rabbitmq_proxy() as proxy,
        stack.temporal(config) as temporal,
        stack.stack(config, temporal.address, layout, rabbitmq_port=proxy.port) as s,
    ):
        users = asyncio.run(warm(s.url, config.dsn, plan.e2e_warmup, plan.drain_timeout))
        return outages(config, s, temporal, proxy, users, plan, results)


@contextmanager
def rabbitmq_proxy() -> Iterator[TcpProxy]:
    """A proxy to the RabbitMQ the service would use (RABBITMQ_HOST/PORT, else local)."""
    host = os.environ.get("RABBITMQ_HOST", "127.0.0.1")
    port = int(os.environ.get("RABBITMQ_PORT", "5672"))
    with tcp_proxy(host, port) as proxy:
        yield proxy
