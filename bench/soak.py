"""The soak: a steady moderate rate of orders for a while, memory sampled as it goes.

On a fresh stack, orders are processed first until the worker's workflow cache is full
and has churned (`prime_count`: half again as many orders as TEMPORAL_WORKFLOW_CACHE,
the service's default unless the environment sets it, and at least `plan.soak_prime`).
The orders' workflows stay open, waiting for payment, so the cache then holds as many as
it ever will, evicting one for each new order, and memory is at its steady state: a
bounded cache filling up is not growth. (Primed with only a tenth more orders than the
cache holds, the worker still grew about 30 MiB over the next 250 orders' evictions, then
stayed flat.) Then orders
arrive at `plan.soak_rate` per second for `plan.soak_seconds`, and every
`plan.soak_sample_seconds` the VmRSS of each process is read, until the last order is
processed. The figure is the growth of our processes' RSS (Temporal excluded) from the
first sample to the last: flat means under 5 %.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp

from bench import fixtures, procs, servers, stack
from bench.orders import OrderPoster, Posted, warm, watching
from bench.plan import Plan
from bench.report import Results, Target
from service.settings.pipeline import PipelineSettings

FLAT = Target("< 5 %", at_most=5.0)
# The service's default TEMPORAL_WORKFLOW_CACHE, read where it is set.
DEFAULT_WORKFLOW_CACHE: int = PipelineSettings.model_fields["temporal_workflow_cache"].default


def prime_count(plan: Plan) -> int:
    """Orders that fill the workflow cache and churn it: half again as many as it holds."""
    cache = int(os.environ.get("TEMPORAL_WORKFLOW_CACHE", DEFAULT_WORKFLOW_CACHE))
    return max(plan.soak_prime, cache + cache // 2)


Sample = tuple[float, dict[str, float]]  # seconds since the start, group -> RSS MiB


def _rss(groups: procs.Groups) -> dict[str, float]:
    by_group: dict[str, float] = {}
    for m in procs.memory(groups):
        by_group[m.group] = by_group.get(m.group, 0.0) + m.rss_mib
    return by_group


async def _soak(
    s: stack.Stack, groups: procs.Groups, users: list[fixtures.BenchUser], plan: Plan, dsn: str
) -> tuple[list[Sample], Posted, bool]:
    samples: list[Sample] = []
    began = time.perf_counter()

    async def sample() -> None:
        while True:
            samples.append((time.perf_counter() - began, _rss(groups)))
            await asyncio.sleep(plan.soak_sample_seconds)

    async with aiohttp.ClientSession(s.url) as session, watching(dsn) as watch:
        poster = OrderPoster(session, users)
        base = await watch.processed()
        prime = prime_count(plan)
        primed = await poster.burst(prime, plan.e2e_concurrency)
        within = max(plan.drain_timeout, float(prime))
        if not await watch.until_processed(base + len(primed.ids), within=within):
            raise SystemExit(f"soak: {prime} priming orders not processed in time")
        await watch.until_relayed(within=within)
        base = await watch.processed()
        began = time.perf_counter()
        sampler = asyncio.create_task(sample())
        posted = await poster.steady(plan.soak_rate, plan.soak_seconds)
        kept_up = await watch.until_processed(base + len(posted.ids), within=plan.drain_timeout)
        sampler.cancel()
    samples.append((time.perf_counter() - began, _rss(groups)))
    return samples, posted, kept_up


def _growth(first: float, last: float) -> float:
    return (last - first) / first * 100 if first else 0.0


def run(config: servers.BenchConfig, plan: Plan, layout: str, results: Results) -> bool:
    """The soak on a fresh stack; True when orders failed or were not processed."""
    print(
        f"\n== soak, layout {layout!r}: {prime_count(plan)} orders first (the workflow cache"
        " full), then"
        f" {plan.soak_rate:g} orders/s for {plan.soak_seconds:g} s"
    )
    servers.prepare_database(config)
    with stack.temporal(config) as temporal, stack.stack(config, temporal.address, layout) as s:
        groups = {**s.groups, "temporal": (temporal.pid,)}
        users = asyncio.run(warm(s.url, config.dsn, plan.e2e_warmup, plan.drain_timeout))
        samples, posted, kept_up = asyncio.run(_soak(s, groups, users, plan, config.dsn))
    names = list(samples[0][1])
    print(f"  {'t s':>6} " + " ".join(f"{n:>12}" for n in names) + f" {'ours':>10}")
    for t, rss in samples:
        ours = sum(v for g, v in rss.items() if g != "temporal")
        print(
            f"  {t:>6.0f} " + " ".join(f"{rss.get(n, 0):>12.1f}" for n in names) + f" {ours:>10.1f}"
        )
    first, last = samples[0][1], samples[-1][1]
    for name in names:
        growth = _growth(first[name], last.get(name, 0.0))
        results.add(f"RSS growth over the soak: {name} [{layout}]", growth, "%")
    ours_first = sum(v for g, v in first.items() if g != "temporal")
    ours_last = sum(v for g, v in last.items() if g != "temporal")
    growth = _growth(ours_first, ours_last)
    print(f"  ours grew {growth:.1f} %; {len(posted.ids)} orders, {posted.errors} POST errors")
    results.add(f"RSS growth over the soak: ours [{layout}]", growth, "%", target=FLAT)
    return bool(posted.errors) or not kept_up
