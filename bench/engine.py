"""Engine round trips per order, from the Temporal SDK's own metrics.

The process with the worker role serves the SDK's counters on its operator listener's
/metrics (appended by the service). Read before and after a window, their deltas divided
by the orders processed in the window say how many workflow tasks and activity tasks an
order cost, how often the worker's workflow cache hit, missed and evicted, and how many
requests went to the server: the round trips issue 10's first item wants down. Under a
backlog, tasks of workflows not yet processed count too, so "per order" is per order
processed.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from bench.report import Results

# metric (summed over its labels) -> what it counts, per order; the first two recorded
RECORDED = ("workflow tasks", "activity tasks")
PER_ORDER = {
    "temporal_workflow_task_execution_latency_count": "workflow tasks",
    "temporal_activity_execution_latency_count": "activity tasks",
    "temporal_workflow_task_replay_latency_count": "replay-latency samples",
    "temporal_sticky_cache_hit": "workflow cache hits",
    "temporal_sticky_cache_miss": "workflow cache misses",
    "temporal_sticky_cache_total_forced_eviction": "forced cache evictions",
    "temporal_request": "requests to the server",
}
GAUGES = {"temporal_sticky_cache_size": "workflows in the cache"}


Counts = dict[str, float]


def scrape(url: str) -> Counts:
    """Every `temporal_*` sample of `url`/metrics, summed by metric name."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    found: Counts = {}
    for line in text.splitlines():
        if not line.startswith("temporal_"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        try:
            found[name] = found.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
        except ValueError:
            continue
    return found


@dataclass(frozen=True)
class Window:
    before: Counts
    after: Counts


def report(label: str, window: Window, orders: int, results: Results) -> None:
    """Print (and record) the SDK's counters per order over a window of `orders` orders."""
    before, after = window.before, window.after
    if not after or not orders:
        print(f"\nengine round trips [{label}]: no SDK metrics (or no orders)")
        return
    shown = []
    for metric, what in PER_ORDER.items():
        each = (after.get(metric, 0.0) - before.get(metric, 0.0)) / orders
        shown.append(f"{what} {each:.2f}")
        if what in RECORDED:
            results.add(f"{what} per order [{label}]", each, "")
    shown += [f"{what} {after.get(metric, 0.0):.0f}" for metric, what in GAUGES.items()]
    print(f"\nengine round trips per order [{label}], the SDK's metrics: " + ", ".join(shown))
