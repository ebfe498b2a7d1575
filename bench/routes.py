"""The routes under load: the service's API role beside the bare handler, in one run.

Each scenario runs against the service (`orders serve --roles api`), then against the bare
server (bench/bare_server.py), on the same database and Redis; the ratio service/bare is
the figure (the issue's targets: create >= 0.9, cached read >= 0.85, list >= 0.85).
Beside it, each server's CPU time per request (from /proc, the measured window only):
the same comparison with less of the machine's noise in it, since a busy neighbour
slows both servers' answers but changes little of what each request costs. With
`--profile`, one more pass of each scenario runs on the service under py-spy once the
measured ones are done (sampling slows it, so no figure comes from that pass).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench import fixtures, load, procs, profile, servers
from bench.fixtures import ORDER_BODY
from bench.load import Request, Result
from bench.names import API_ALONE
from bench.plan import Plan
from bench.report import Results, Target


@dataclass(frozen=True)
class Scenario:
    name: str
    route: str
    service: list[Request]
    bare: list[Request]
    target: Target


async def _scenarios(plan: Plan, service_url: str, bare_url: str) -> list[Scenario]:
    writers = await fixtures.register_users(service_url, plan.writers, "writer")
    readers_s = await fixtures.register_users(service_url, plan.readers, "reader-s")
    readers_b = await fixtures.register_users(service_url, plan.readers, "reader-b")
    orders_s = await fixtures.create_orders(service_url, readers_s, plan.orders_per_reader)
    orders_b = await fixtures.create_orders(bare_url, readers_b, plan.orders_per_reader)

    def reads(orders: list[tuple[str, str]]) -> list[Request]:
        return [Request("GET", f"/orders/{oid}/", token) for oid, token in orders]

    def lists(users: list[fixtures.BenchUser]) -> list[Request]:
        return [Request("GET", f"/orders/user/{u.id}/", u.token) for u in users]

    creates = creates_for(writers)
    return [
        Scenario("create", "POST /orders/", creates, creates, Target(">= 0.9x", 0.9)),
        Scenario(
            "cached read",
            "GET /orders/{id}/",
            reads(orders_s),
            reads(orders_b),
            Target(">= 0.85x", 0.85),
        ),
        Scenario(
            "list",
            "GET /orders/user/{id}/",
            lists(readers_s),
            lists(readers_b),
            Target(">= 0.85x", 0.85),
        ),
    ]


def creates_for(users: list[fixtures.BenchUser]) -> list[Request]:
    return [Request("POST", "/orders/", u.token, ORDER_BODY) for u in users]


HEADER = (
    f"  {'target':<10} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
    f" {'requests':>9} {'errors':>7}"
)


def row(label: str, r: Result) -> str:
    return (
        f"  {label:<10} {r.rps:>9.0f} {r.p50_ms:>8.1f} {r.p90_ms:>8.1f} {r.p99_ms:>8.1f}"
        f" {r.requests:>9} {r.errors:>7}"
    )


def _warm_up(url: str, requests: list[Request], plan: Plan) -> None:
    if plan.warmup:
        load.run(url, requests, connections=plan.connections, seconds=plan.warmup)


def measure(url: str, requests: list[Request], plan: Plan) -> Result:
    _warm_up(url, requests, plan)
    return load.run(url, requests, connections=plan.connections, seconds=plan.seconds)


def measure_cpu(
    server: servers.Server, requests: list[Request], plan: Plan
) -> tuple[Result, float]:
    """The load's result and the server's CPU microseconds per request meanwhile."""
    _warm_up(server.url, requests, plan)
    before = procs.cpu_seconds(server.pid)
    result = load.run(server.url, requests, connections=plan.connections, seconds=plan.seconds)
    used = procs.cpu_seconds(server.pid) - before
    return result, 1e6 * used / result.requests if result.requests else float("nan")


def _report(scenario: Scenario, service: Result, bare: Result, cpu: tuple[float, float]) -> None:
    ratio = service.rps / bare.rps if bare.rps else float("nan")
    print(f"\n{scenario.name}: {scenario.route}")
    print(HEADER)
    print(row("service", service))
    print(row("bare", bare))
    p50 = service.p50_ms / bare.p50_ms if bare.p50_ms else float("nan")
    print(f"  ratio service/bare: {ratio:.2f} (req/s); p50 latency {p50:.2f}x")
    print(
        f"  CPU per request: service {cpu[0]:.0f} us, bare {cpu[1]:.0f} us;"
        f" bare/service {cpu[1] / cpu[0]:.2f}"
    )
    if service.errors or bare.errors:
        print("  WARNING: errors (non-2xx or failed requests): the figures above are suspect")


def run(config: servers.BenchConfig, plan: Plan, repeat: int, results: Results) -> bool:
    """Measure every scenario `repeat` times; True when one got errors or no answers."""
    failed = False
    servers.prepare_database(config)
    with servers.service(config) as service_server, servers.bare(config) as bare_server:
        scenarios = asyncio.run(_scenarios(plan, service_server.url, bare_server.url))
        for repetition in range(repeat):
            results.repetition = repetition
            for scenario in scenarios:
                service, service_cpu = measure_cpu(service_server, scenario.service, plan)
                bare, bare_cpu = measure_cpu(bare_server, scenario.bare, plan)
                _report(scenario, service, bare, (service_cpu, bare_cpu))
                failed |= not service.requests or not bare.requests
                failed |= bool(service.errors or bare.errors)
                base = f"{scenario.name}, bare"
                results.add(base, bare.rps, "req/s")
                results.add(
                    f"{scenario.name}, service", service.rps, "req/s", base, scenario.target
                )
                cpu_base = f"{scenario.name}, CPU per request, bare"
                results.add(cpu_base, bare_cpu, "us")
                results.add(
                    f"{scenario.name}, CPU per request, service", service_cpu, "us", cpu_base
                )
                if scenario.name == "create":  # the same load: the full stack's baseline
                    results.add(API_ALONE, service.rps, "req/s")
        if plan.profile:
            _profile(service_server, scenarios, plan, config)
    return failed


def _profile(
    server: servers.Server, scenarios: list[Scenario], plan: Plan, config: servers.BenchConfig
) -> None:
    """Each scenario once more on the service, under py-spy: where its CPU goes."""
    for scenario in scenarios:
        _warm_up(server.url, scenario.service, plan)
        group = f"api-{scenario.name.replace(' ', '-')}"
        with profile.recording(True, {group: (server.pid,)}, config.log_dir):
            load.run(
                server.url, scenario.service, connections=plan.connections, seconds=plan.seconds
            )
