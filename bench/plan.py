"""How big each measurement is: the full run, and the smoke run CI uses to prove it works."""

from __future__ import annotations

from dataclasses import dataclass

# The parts `--only` can name, in the order a run measures them.
PARTS = ("routes", "e2e", "cpu", "rss", "latency", "fullstack", "isolation", "soak")


@dataclass(frozen=True)
class Plan:
    seconds: float  # each closed-loop measurement (routes, full-stack POST)
    warmup: float
    connections: int
    writers: int
    readers: int
    orders_per_reader: int
    e2e_orders: int  # orders (and workflows) end to end, posted `e2e_concurrency` at a time
    e2e_concurrency: int
    e2e_warmup: int
    light_rate: float  # orders (workflows) per second for the light-load latency
    light_seconds: float
    stack_connections: int  # POST on the full stack (its backlog is what drains after)
    stack_orders: int  # when set, POST exactly that many instead (smoke: a small backlog)
    rest_seconds: float  # idle before memory "at rest" is read
    drain_timeout: float  # the most a run waits for a backlog to drain (isolation: twice)
    outage_seconds: float  # POST under load while a dependency is away
    soak_seconds: float  # 0: no soak
    soak_rate: float  # orders per second during the soak
    soak_prime: int  # at least this many orders before the first sample (soak.prime_count)
    soak_sample_seconds: float
    smoke: bool = False
    one_stack: bool = False  # isolation on the pipeline's stack, not on a stack of its own
    profile: bool = False  # py-spy on the service process(es) during the burst
    # the stack's logs as `make run` has them (INFO, through run/with-name), not WARNING
    run_logs: bool = False


FULL = Plan(
    seconds=10,
    warmup=2,
    connections=32,
    writers=32,
    readers=16,
    orders_per_reader=20,
    e2e_orders=600,
    e2e_concurrency=16,
    e2e_warmup=20,
    light_rate=5,
    light_seconds=10,
    stack_connections=32,
    stack_orders=0,
    rest_seconds=5,
    drain_timeout=60,
    outage_seconds=3,
    soak_seconds=60,
    soak_rate=10,
    soak_prime=100,
    soak_sample_seconds=5,
)

SMOKE = Plan(
    seconds=1,
    warmup=0,
    connections=4,
    writers=2,
    readers=2,
    orders_per_reader=3,
    e2e_orders=20,
    e2e_concurrency=4,
    e2e_warmup=3,
    light_rate=4,
    light_seconds=1,
    stack_connections=2,
    stack_orders=20,
    rest_seconds=0.5,
    drain_timeout=60,
    outage_seconds=1,
    soak_seconds=0,
    soak_rate=10,
    soak_prime=20,
    soak_sample_seconds=1,
    smoke=True,
    one_stack=True,
)
