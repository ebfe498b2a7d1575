"""`make bench`: the service under load, each scenario beside its baseline, in one run.

    python -m bench.run            full run (10 s per route and target, 32 connections;
                                   600 orders end to end)
    python -m bench.run --smoke    ~2 s each, 4 connections, 20 orders: proves it works (CI)

Routes: req/s and latency p50/p90/p99 for the service and the bare handler
(bench/bare_server.py), and the ratio service/bare. End to end (bench/e2e.py): orders
processed per second through relay, Temporal, RabbitMQ and Celery, beside a trivial
workflow on the same Temporal server. It asserts no timings; --smoke fails only when a
scenario got errors or no answers at all. Results also go to .run/bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from dataclasses import asdict, dataclass

from bench import e2e, fixtures, load, servers
from bench.fixtures import ORDER_BODY
from bench.load import Request, Result


@dataclass(frozen=True)
class Plan:
    seconds: float
    warmup: float
    connections: int
    writers: int
    readers: int
    orders_per_reader: int
    e2e_orders: int
    e2e_concurrency: int
    e2e_warmup: int


FULL = Plan(
    10,
    2,
    connections=32,
    writers=32,
    readers=16,
    orders_per_reader=20,
    e2e_orders=600,
    e2e_concurrency=16,
    e2e_warmup=20,
)
SMOKE = Plan(
    2,
    0,
    connections=4,
    writers=2,
    readers=2,
    orders_per_reader=3,
    e2e_orders=20,
    e2e_concurrency=4,
    e2e_warmup=3,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    route: str
    service: list[Request]
    bare: list[Request]


async def _scenarios(plan: Plan, service_url: str, bare_url: str) -> list[Scenario]:
    writers = await fixtures.register_users(service_url, plan.writers, "writer")
    readers_s = await fixtures.register_users(service_url, plan.readers, "reader-s")
    readers_b = await fixtures.register_users(service_url, plan.readers, "reader-b")
    orders_s = await fixtures.create_orders(service_url, readers_s, plan.orders_per_reader)
    orders_b = await fixtures.create_orders(bare_url, readers_b, plan.orders_per_reader)

    def creates() -> list[Request]:
        return [Request("POST", "/orders/", u.token, ORDER_BODY) for u in writers]

    def reads(orders: list[tuple[str, str]]) -> list[Request]:
        return [Request("GET", f"/orders/{oid}/", token) for oid, token in orders]

    def lists(users: list[fixtures.BenchUser]) -> list[Request]:
        return [Request("GET", f"/orders/user/{u.id}/", u.token) for u in users]

    return [
        Scenario("create", "POST /orders/", creates(), creates()),
        Scenario("cached read", "GET /orders/{id}/", reads(orders_s), reads(orders_b)),
        Scenario("list", "GET /orders/user/{id}/", lists(readers_s), lists(readers_b)),
    ]


def _row(label: str, r: Result) -> str:
    return (
        f"  {label:<8} {r.rps:>9.0f} {r.p50_ms:>8.1f} {r.p90_ms:>8.1f} {r.p99_ms:>8.1f}"
        f" {r.requests:>9} {r.errors:>7}"
    )


def _report(scenario: Scenario, service: Result, bare: Result) -> None:
    ratio = service.rps / bare.rps if bare.rps else float("nan")
    print(f"\n{scenario.name}: {scenario.route}")
    print(
        f"  {'target':<8} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
        f" {'requests':>9} {'errors':>7}"
    )
    print(_row("service", service))
    print(_row("bare", bare))
    p50 = service.p50_ms / bare.p50_ms if bare.p50_ms else float("nan")
    print(f"  ratio service/bare: {ratio:.2f} (req/s); p50 latency {p50:.2f}x")
    if service.errors or bare.errors:
        print("  WARNING: errors (non-2xx or failed requests): the figures above are suspect")


def _measure(url: str, requests: list[Request], plan: Plan) -> Result:
    if plan.warmup:
        load.run(url, requests, connections=plan.connections, seconds=plan.warmup)
    return load.run(url, requests, connections=plan.connections, seconds=plan.seconds)


def _routes(config: servers.BenchConfig, plan: Plan) -> tuple[list[dict[str, object]], bool]:
    results: list[dict[str, object]] = []
    failed = False
    servers.prepare_database(config)
    with servers.service(config) as service_url, servers.bare(config) as bare_url:
        for scenario in asyncio.run(_scenarios(plan, service_url, bare_url)):
            service = _measure(service_url, scenario.service, plan)
            bare = _measure(bare_url, scenario.bare, plan)
            _report(scenario, service, bare)
            failed |= not service.requests or not bare.requests
            failed |= bool(service.errors or bare.errors)
            ratio = service.rps / bare.rps if bare.rps else None
            results.append(
                {
                    "scenario": scenario.name,
                    "route": scenario.route,
                    "service": asdict(service),
                    "bare": asdict(bare),
                    "ratio": ratio,
                }
            )
    return results, failed


def _end_to_end(config: servers.BenchConfig, plan: Plan) -> dict[str, object]:
    service, trivial = e2e.run(config, plan.e2e_orders, plan.e2e_concurrency, plan.e2e_warmup)
    ratio = service.per_second / trivial.per_second if trivial.per_second else float("nan")
    print(
        f"\nend to end: {plan.e2e_orders} orders, {plan.e2e_concurrency} at a time "
        f"(after {plan.e2e_warmup} to warm up), one Temporal dev server (WAL SQLite)"
    )
    print(f"  {'target':<8} {'per s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'done':>9}")
    for label, t in (("service", service), ("trivial", trivial)):
        print(
            f"  {label:<8} {t.per_second:>9.1f} {t.p50_ms:>8.0f} {t.p90_ms:>8.0f}"
            f" {t.p99_ms:>8.0f} {t.done:>9}"
        )
    print(
        "  service: POST /orders/ -> row in processed_orders; trivial: start -> result of a"
        " workflow with one no-op activity"
    )
    print(f"  ratio service/trivial: {ratio:.2f} (per s)")
    return {
        "scenario": "end to end",
        "service": asdict(service),
        "trivial": asdict(trivial),
        "ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="short run for CI")
    parser.add_argument("--seconds", type=float, help="duration of each route measurement")
    parser.add_argument("--connections", type=int, help="concurrent connections")
    parser.add_argument("--orders", type=int, help="orders (and workflows) end to end")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--no-e2e", action="store_true", help="the route scenarios only")
    only.add_argument("--e2e-only", action="store_true", help="the end-to-end scenario only")
    args = parser.parse_args()
    plan = SMOKE if args.smoke else FULL
    overrides = {
        "seconds": args.seconds,
        "connections": args.connections,
        "e2e_orders": args.orders,
    }
    plan = Plan(**{**asdict(plan), **{k: v for k, v in overrides.items() if v}})

    config = servers.BenchConfig.from_env()
    print(
        f"load generator: {load.generator_name()}, {plan.connections} connections, "
        f"{plan.seconds:g} s per measurement (+{plan.warmup:g} s warm-up), {os.cpu_count()} cores"
    )
    print(f"database: {config.dsn} (migrated and emptied); logs in {config.log_dir}")
    results: list[dict[str, object]] = []
    failed = False
    if not args.e2e_only:
        results, failed = _routes(config, plan)
    if not args.no_e2e:
        results.append(_end_to_end(config, plan))
    config.log_dir.mkdir(parents=True, exist_ok=True)
    (config.log_dir / "results.json").write_text(json.dumps(results, indent=2))
    if failed and args.smoke:
        raise SystemExit("bench smoke: a scenario got errors or no answers")


if __name__ == "__main__":
    main()
