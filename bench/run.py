"""`make bench`: every figure of issue 10, each beside its baseline, in one run.

    python -m bench.run                      everything (about 12 minutes)
    python -m bench.run --smoke              a few seconds of each, no soak: proves it works (CI)
    python -m bench.run --only e2e,cpu       some parts: routes, e2e, cpu, rss, latency,
                                             fullstack, isolation, soak
    python -m bench.run --repeat 3           medians of 3 repetitions (routes and pipeline)
    python -m bench.run --layout one,split   the full stack in each layout, one after the other

Routes (bench/routes.py) beside a bare handler; the pipeline (bench/session.py): end to end
and CPU per order beside a trivial workflow and the engine's floor, memory per process,
the light-load latency, POST on the full stack while it drains; isolation
(bench/isolation.py); the soak (bench/soak.py). It asserts no timings; --smoke fails only
when something got errors, no answers, or never drained. Everything goes to
.run/bench/results.json, and the summary table to .run/bench/summary.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
from importlib import metadata

from bench import history, isolation, load, log_cost, routes, servers, session, soak
from bench.plan import FULL, PARTS, SMOKE, Plan
from bench.report import Results, markdown_table, text_table
from bench.stack import LAYOUTS

LOG_COST_ORDERS = 5000  # orders' log lines timed by bench/log_cost.py


def _parts(text: str | None) -> set[str]:
    if not text:
        return set(PARTS)
    parts = {p.strip() for p in text.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"--only: unknown part(s) {', '.join(sorted(unknown))}; know {PARTS}")
    return parts


def _layouts(text: str) -> list[str]:
    layouts = [p.strip() for p in text.split(",") if p.strip()]
    if not layouts or set(layouts) - set(LAYOUTS):
        raise SystemExit(f"--layout: one or more of {', '.join(LAYOUTS)}")
    return layouts


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="short run for CI")
    parser.add_argument("--only", help=f"comma-separated parts of: {', '.join(PARTS)}")
    parser.add_argument("--layout", default=os.environ.get("BENCH_LAYOUT", "one"))
    parser.add_argument("--repeat", type=int, default=1, help="repetitions (medians reported)")
    parser.add_argument("--soak", type=float, help="soak seconds (60 in the full run, 0: none)")
    parser.add_argument("--soak-rate", type=float, help="orders per second in the soak (10)")
    parser.add_argument(
        "--soak-prime", type=int, help="at least this many orders before the soak's samples"
    )
    parser.add_argument("--seconds", type=float, help="duration of each closed-loop measurement")
    parser.add_argument("--connections", type=int, help="concurrent connections")
    parser.add_argument("--orders", type=int, help="orders (and workflows) end to end")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the service: each route, the burst"
    )
    parser.add_argument(
        "--logs",
        choices=("quiet", "run"),
        default="quiet",
        help="the stack's logs: WARNING to a file (quiet), or as make run has them (run:"
        " INFO, each line through run/with-name)",
    )
    parser.add_argument("--no-e2e", action="store_true", help="same as --only routes")
    parser.add_argument("--e2e-only", action="store_true", help="same as --only e2e,cpu")
    return parser.parse_args()


def _plan(args: argparse.Namespace) -> Plan:
    plan = SMOKE if args.smoke else FULL
    overrides = {
        "seconds": args.seconds,
        "connections": args.connections,
        "e2e_orders": args.orders,
        "soak_seconds": args.soak,
        "soak_rate": args.soak_rate,
        "soak_prime": args.soak_prime,
    }
    changes = {k: v for k, v in overrides.items() if v is not None}
    run_logs = args.logs == "run"
    return dataclasses.replace(plan, profile=args.profile, run_logs=run_logs, **changes)


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "?"


def machine() -> list[str]:
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    temporal = servers.ORDERS.with_name("temporal")
    return [
        f"{os.cpu_count()} cores, {mem_kib / 1024**2:.1f} GiB memory, load average"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start",
        f"Python {platform.python_version()}, temporalio {metadata.version('temporalio')},"
        f" {_version([str(temporal), '--version'])}",
        f"PostgreSQL: {_version(['psql', '--version'])}; load generator {load.generator_name()}",
    ]


def main() -> None:
    args = _args()
    plan, layouts = _plan(args), _layouts(args.layout)
    parts = {"routes"} if args.no_e2e else {"e2e", "cpu"} if args.e2e_only else _parts(args.only)
    if not plan.soak_seconds:
        parts.discard("soak")
    config = servers.BenchConfig.from_env()
    for line in machine():
        print(line)
    print(
        f"parts: {', '.join(p for p in PARTS if p in parts)}; layout(s) {', '.join(layouts)};"
        f" {args.repeat} repetition(s); {plan.connections} connections, {plan.seconds:g} s"
        f" per closed-loop measurement (+{plan.warmup:g} s warm-up);"
        f" the stack's logs {'as make run has them' if plan.run_logs else 'at WARNING'}"
    )
    print(f"database: {config.dsn} (migrated and emptied); logs in {config.log_dir}")
    results = Results()
    failed = _measure(config, plan, parts, layouts, args.repeat, results)
    _write(config, results)
    if failed and plan.smoke:
        raise SystemExit("bench smoke: something got errors, no answers, or did not drain")


def _measure(
    config: servers.BenchConfig,
    plan: Plan,
    parts: set[str],
    layouts: list[str],
    repeat: int,
    results: Results,
) -> bool:
    """Every part asked for; True when something failed."""
    failed = False
    if "routes" in parts:
        failed |= routes.run(config, plan, repeat, results)
    if parts & session.STACK_PARTS:
        for repetition in range(repeat):
            results.repetition = repetition
            for layout in layouts:
                failed |= session.run(config, plan, layout, parts, results)
    results.repetition = 0
    if parts & session.BURST_PARTS:
        history.closed(results)
    if "cpu" in parts:
        log_cost.report(LOG_COST_ORDERS // 25 if plan.smoke else LOG_COST_ORDERS, results)
    isolation_done = plan.one_stack and bool(parts & session.STACK_PARTS)
    for layout in layouts:
        if "isolation" in parts and not isolation_done:
            failed |= isolation.run(config, plan, layout, results)
        if "soak" in parts:
            failed |= soak.run(config, plan, layout, results)
    return failed


def _write(config: servers.BenchConfig, results: Results) -> None:
    rows = results.summary()
    print("\n== summary: medians; ratios to the baseline measured just before, in this run\n")
    print(text_table(rows))
    config.log_dir.mkdir(parents=True, exist_ok=True)
    (config.log_dir / "results.json").write_text(json.dumps(results.as_json(), indent=2))
    (config.log_dir / "summary.md").write_text(markdown_table(rows) + "\n")


if __name__ == "__main__":
    main()
