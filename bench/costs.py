"""What the machine paid: CPU per order and memory per process, printed and recorded."""

from __future__ import annotations

import time

from bench import procs
from bench.e2e import Burst
from bench.report import Results, Target

CPU_TARGET = Target("<= 15 ms", at_most=15.0)
RSS_TARGET = Target("< 330 MiB", at_most=330.0)  # issue 10: ours, the supervisor not counted
# Issue 19: make run's layout with its supervisor and helpers (the `run` layout).
SUPERVISED_RSS_TARGET = Target("< 300 MiB", at_most=300.0)
TOP_THREADS = 6


def cpu(
    label: str,
    figure: str,
    burst: Burst,
    results: Results,
    baseline: str = "",
    target: Target | None = None,
) -> None:
    """Print the CPU per item of one burst, per process group and busiest threads."""
    each = burst.cpu_ms_each
    print(f"\nCPU per {label}, {burst.done} of them, from /proc (utime + stime):")
    for group, seconds in burst.cpu.seconds.items():
        ms = seconds / burst.done * 1000
        print(f"  {group:<16} {ms:>7.2f} ms  {ms / each if each else 0:>4.0%}")
        results.add(f"{figure}: {group}", ms, "ms")
    print(f"  {'total':<16} {each:>7.2f} ms")
    if burst.postgres_seconds:
        ms = burst.postgres_seconds / burst.done * 1000
        print(f"  {'postgres':<16} {ms:>7.2f} ms  (its sessions on the bench database; apart)")
        results.add(f"{figure}: postgres (apart)", ms, "ms")
    if burst.note:
        print(f"  ({burst.note})")
    results.add(figure, each, "ms", baseline, target)
    threads = [
        (seconds, group, name)
        for group, names in burst.cpu.threads.items()
        if group != "temporal"
        for name, seconds in names.items()
    ]
    busiest = sorted(threads, reverse=True)[:TOP_THREADS]
    if busiest:
        shown = ", ".join(
            f"{group}/{name} {seconds / burst.done * 1000:.2f}" for seconds, group, name in busiest
        )
        print(f"  busiest threads of our processes (ms each): {shown}")


def idle(when: str, groups: procs.Groups, seconds: float, results: Results) -> None:
    """The CPU the processes spend doing nothing for `seconds` (polling loops, timers)."""
    before = procs.cpu_snapshot(groups)
    time.sleep(seconds)
    used = procs.cpu_used(before, procs.cpu_snapshot(groups))
    shown = ", ".join(f"{g} {s / seconds * 1000:.0f}" for g, s in used.seconds.items())
    print(f"\nCPU {when}, ms per second: {shown}")
    ours = sum(s for g, s in used.seconds.items() if g != "temporal")
    results.add(f"CPU {when}: ours (Temporal excluded)", ours / seconds * 1000, "ms/s")


def memory(when: str, groups: procs.Groups, results: Results, baseline_when: str = "") -> None:
    """Print VmRSS and Pss of every process; record the sums per group and ours in total."""
    rows = procs.memory(groups)
    print(f"\nmemory {when}:")
    print(f"  {'process':<30} {'pid':>8} {'RSS MiB':>9} {'PSS MiB':>9}")
    for r in rows:
        print(f"  {r.group + ' ' + r.name:<30} {r.pid:>8} {r.rss_mib:>9.1f} {r.pss_mib:>9.1f}")
    ours = [r for r in rows if r.group != "temporal"]
    rss, pss = sum(r.rss_mib for r in ours), sum(r.pss_mib for r in ours)
    print(f"  {'ours (Temporal excluded)':<30} {'':>8} {rss:>9.1f} {pss:>9.1f}")
    for group in dict.fromkeys(r.group for r in rows):
        name = f"RSS {when}: {group}"
        value = sum(r.rss_mib for r in rows if r.group == group)
        results.add(name, value, "MiB", f"RSS {baseline_when}: {group}" if baseline_when else "")
    name = f"RSS {when}: ours (Temporal excluded)"
    base = f"RSS {baseline_when}: ours (Temporal excluded)" if baseline_when else ""
    supervised = any(r.group == "supervisor" for r in rows)
    results.add(name, rss, "MiB", base, SUPERVISED_RSS_TARGET if supervised else RSS_TARGET)
