"""Load generators: wrk (C, from Debian's `wrk`) when installed, else a Python aiohttp one.

Both hold N connections open for a fixed duration, each connection sending its next
request as soon as the previous answer arrived (closed loop), cycling through a list of
prepared requests, and report requests per second and latency percentiles. wrk costs far
less CPU than the Python generator, which on a 2-core machine competes with the server
under test: figures from the two are not comparable, ratios within one run are.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
RESULT_MARK = "BENCH_RESULT "


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    token: str
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Result:
    requests: int
    errors: int  # non-2xx answers, connection errors and timeouts
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def use_wrk() -> bool:
    """wrk when installed, unless BENCH_LOAD=python asks for the Python generator."""
    return os.environ.get("BENCH_LOAD", "auto") != "python" and shutil.which("wrk") is not None


def generator_name() -> str:
    return "wrk" if use_wrk() else "python-aiohttp"


def run(base_url: str, requests: list[Request], *, connections: int, seconds: float) -> Result:
    if use_wrk():
        return run_wrk(base_url, requests, connections=connections, seconds=seconds)
    return asyncio.run(run_python(base_url, requests, connections=connections, seconds=seconds))


def run_wrk(base_url: str, requests: list[Request], *, connections: int, seconds: float) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        for r in requests:
            body = r.body.decode() if r.body else ""
            f.write(f"{r.method}\t{r.path}\t{r.token}\t{body}\n")
        table = f.name
    try:
        threads = max(1, min(2, connections))
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(WRK_SCRIPT),
                base_url,
                "--",
                table,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(table).unlink(missing_ok=True)
    for line in out.splitlines():
        if line.startswith(RESULT_MARK):
            raw = json.loads(line.removeprefix(RESULT_MARK))
            return Result(
                requests=raw["requests"],
                errors=raw["errors"],
                seconds=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1000,
                p90_ms=raw["p90_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result:\n{out}")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


async def run_python(
    base_url: str, requests: list[Request], *, connections: int, seconds: float
) -> Result:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + seconds

        async def connection(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                r = requests[i % len(requests)]
                i += connections
                headers = {"Authorization": f"Bearer {r.token}"}
                if r.body is not None:
                    headers["Content-Type"] = "application/json"
                t0 = time.perf_counter()
                try:
                    async with session.request(
                        r.method, r.path, headers=headers, data=r.body
                    ) as resp:
                        await resp.read()
                        ok = resp.status < 400
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        await asyncio.gather(*(connection(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )
