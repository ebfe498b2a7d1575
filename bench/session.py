"""One repetition of the pipeline's figures, on a fresh Temporal dev server and full stack.

In order: the API role alone (the full stack's baseline); on a fresh Temporal server, the
trivial workflow (light-load latency, then the burst) and the engine's floor; then the
stack in the chosen layout: warm-up orders, memory at rest, the light-load latency, the
end-to-end burst with its CPU, memory after the burst, and POST under load while the
pipeline drains; in the smoke run (`plan.one_stack`), the isolation outages too, on the
same stack (its RabbitMQ through the proxy from the start). Which run follows `--only`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiohttp

from bench import (
    costs,
    e2e,
    engine,
    fixtures,
    fullstack,
    history,
    isolation,
    profile,
    servers,
    stack,
    storage,
)
from bench.e2e import Burst
from bench.names import (
    API_ALONE,
    FLOOR_CPU,
    FLOOR_E2E,
    TRIVIAL_CPU,
    TRIVIAL_E2E,
    TRIVIAL_LIGHT,
)
from bench.orders import Latency, OrderPoster, Watch, latency, warm, watching
from bench.plan import Plan
from bench.report import Results, Target
from tests.support.faults import TcpProxy

LIGHT_TARGET = Target("< 50 ms", at_most=50.0)
E2E_TARGET = Target(">= 1.5x", ratio_at_least=1.5)
# issue 19's: against the engine's floor
FLOOR_E2E_TARGET = Target(">= 0.9x floor", ratio_at_least=0.9)
FLOOR_CPU_TARGET = Target("<= 1.0x floor", ratio_at_most=1.0)
BASELINE_PARTS = {"e2e", "cpu", "latency"}
BURST_PARTS = {"e2e", "cpu", "rss"}
STACK_PARTS = BURST_PARTS | {"latency", "fullstack"}


def _throughput(label: str, burst: Burst) -> None:
    t = burst.latency
    print(
        f"  {label:<10} {burst.per_second:>9.1f} {t.p50_ms:>8.0f} {t.p90_ms:>8.0f}"
        f" {t.p99_ms:>8.0f} {burst.done:>7}  {burst.note}"
    )


def _latency_line(label: str, t: Latency) -> None:
    print(
        f"  {label:<10} p50 {t.p50_ms:.0f} ms, p90 {t.p90_ms:.0f}, p99 {t.p99_ms:.0f},"
        f" max {t.max_ms:.0f} ({t.count} of them)"
    )


THROUGHPUT_HEADER = f"  {'':<10} {'per s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'done':>7}"


def baselines(
    config: servers.BenchConfig, temporal: stack.Temporal, plan: Plan, results: Results
) -> None:
    trivial, light = e2e.trivial(config, temporal, plan)
    floor = e2e.engine_floor(config, temporal, plan)
    print(f"\ntrivial workflows, {plan.e2e_orders} started {plan.e2e_concurrency} at a time:")
    print(THROUGHPUT_HEADER)
    _throughput("trivial", trivial)
    _throughput("floor", floor)
    print("  trivial: one no-op activity; floor: the no-op as a local activity, eager start")
    print(f"start -> result at light load ({plan.light_rate:g} per s), trivial workflow:")
    _latency_line("trivial", light)
    results.add(TRIVIAL_E2E, trivial.per_second, "wf/s")
    results.add(FLOOR_E2E, floor.per_second, "wf/s", TRIVIAL_E2E)
    results.add(TRIVIAL_LIGHT, light.p50_ms, "ms")
    costs.cpu("workflow, trivial", TRIVIAL_CPU, trivial, results)
    costs.cpu("workflow, floor", FLOOR_CPU, floor, results, TRIVIAL_CPU)


async def _light(poster: OrderPoster, watch: Watch, plan: Plan) -> Latency:
    """Orders at a steady light rate; each one's POST -> processed latency."""
    base = await watch.processed()
    posted = await poster.steady(plan.light_rate, plan.light_seconds)
    if not await watch.until_processed(base + len(posted.ids), within=plan.drain_timeout):
        raise SystemExit("light-load orders were not processed in time")
    await watch.until_relayed(within=plan.drain_timeout)
    return latency(await watch.latencies(posted.ids))


@dataclass
class Measured:
    light: Latency | None = None
    burst: Burst | None = None
    window: engine.Window | None = None
    storage: tuple[storage.Sizes, storage.Sizes] | None = None  # before and after the burst


async def _measure(
    config: servers.BenchConfig,
    s: stack.Stack,
    temporal: stack.Temporal,
    users: list[fixtures.BenchUser],
    plan: Plan,
    parts: set[str],
) -> Measured:
    """The light-load latency, then the end-to-end burst (each when `parts` asks for it)."""
    found = Measured()
    async with watching(config.dsn) as watch, aiohttp.ClientSession(s.url) as session:
        poster = OrderPoster(session, users)
        if "latency" in parts:
            found.light = await _light(poster, watch, plan)
        if parts & BURST_PARTS:
            before, sizes = engine.scrape(s.worker_url), await watch.sizes(temporal.data)
            with profile.recording(plan.profile, s.groups, config.log_dir):
                found.burst = await e2e.service_burst(s, temporal, poster, watch, plan)
            found.window = engine.Window(before, engine.scrape(s.worker_url))
            found.storage = sizes, await watch.sizes(temporal.data)
    return found


def _service(
    config: servers.BenchConfig,
    temporal: stack.Temporal,
    plan: Plan,
    layout: str,
    parts: set[str],
    results: Results,
    proxy: TcpProxy | None,
) -> bool:
    """Everything measured on the full stack; True when something failed."""
    failed = False
    port = proxy.port if proxy else None
    with stack.stack(config, temporal.address, layout, port, plan.run_logs) as s:
        groups = {**s.groups, "temporal": (temporal.pid,)}
        users = asyncio.run(warm(s.url, config.dsn, plan.e2e_warmup, plan.drain_timeout))
        if not stack.v5_fields_dropped(s):
            print("\nnote: the relay still sends workflow v5's fields (its /ready detail)")
        if "rss" in parts:
            costs.idle(f"at rest [{layout}]", groups, plan.rest_seconds, results)
            costs.memory(f"at rest [{layout}]", groups, results)
        found = asyncio.run(_measure(config, s, temporal, users, plan, parts))
        light, burst, window = found.light, found.burst, found.window
        if light is not None:
            print(f"\nPOST -> processed at light load ({plan.light_rate:g} per s) [{layout}]:")
            _latency_line("service", light)
            name = f"POST -> processed p50, light load [{layout}]"
            results.add(name, light.p50_ms, "ms", TRIVIAL_LIGHT, LIGHT_TARGET)
        if burst is not None and window is not None:
            _report_burst(burst, plan, layout, results)
            engine.report(layout, window, burst.done, results)
            history.sample(temporal.address, burst.ids, layout, results)
            if found.storage is not None:
                storage.report(layout, *found.storage, burst.done, results)
            failed |= bool(burst.note)
        if "rss" in parts:
            costs.memory(f"after the burst [{layout}]", groups, results, f"at rest [{layout}]")
        if "fullstack" in parts:
            failed |= fullstack.under_load(config, s, groups, users, plan, results)
        if proxy is not None:
            failed |= isolation.outages(config, s, temporal, proxy, users, plan, results)
    return failed


def _report_burst(burst: Burst, plan: Plan, layout: str, results: Results) -> None:
    print(
        f"\nend to end [{layout}]: {plan.e2e_orders} orders posted {plan.e2e_concurrency} at"
        " a time, POST -> row in processed_orders"
    )
    print(THROUGHPUT_HEADER)
    _throughput("service", burst)
    name = f"end to end, service [{layout}]"
    results.add(name, burst.per_second, "orders/s", TRIVIAL_E2E, E2E_TARGET)
    results.add(f"{name} / floor", burst.per_second, "orders/s", FLOOR_E2E, FLOOR_E2E_TARGET)
    figure = f"CPU per order, service [{layout}]"
    costs.cpu(f"order [{layout}]", figure, burst, results, TRIVIAL_CPU, costs.CPU_TARGET)
    results.add(f"{figure} / floor", burst.cpu_ms_each, "ms", FLOOR_CPU, FLOOR_CPU_TARGET)


def run(
    config: servers.BenchConfig, plan: Plan, layout: str, parts: set[str], results: Results
) -> bool:
    """One repetition on one layout; True when something failed."""
    print(f"\n== the pipeline, layout {layout!r}, repetition {results.repetition + 1}")
    with_isolation = plan.one_stack and "isolation" in parts
    if ("fullstack" in parts or with_isolation) and not results.measured(API_ALONE):
        fullstack.api_alone(config, plan, results)
    servers.prepare_database(config)
    with contextlib.ExitStack() as running:
        proxy = running.enter_context(isolation.rabbitmq_proxy()) if with_isolation else None
        temporal = running.enter_context(stack.temporal(config))
        if parts & BASELINE_PARTS:
            baselines(config, temporal, plan, results)
        return _service(config, temporal, plan, layout, parts, results, proxy)
