"""`make run` heals itself (issue 16). Its layout (the Temporal dev server, the API, the
pipeline, Celery) runs as `make run` runs it while orders flow; each process is SIGKILLed
in turn and comes back by itself, the API refuses no order while it is itself up, and every
accepted order is processed once. Then Ctrl-C stops everything, quietly.

Under honcho, the first kill stopped every process: 40 of 40 POSTs of the next 10 s were
refused until a person started it again."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.e2e.checks import assert_processed_exactly_once, now
from tests.e2e.run_layout import PROGRAMS, RunLayout, argv_of, descendants, stop_tree
from tests.support.api import ApiUser
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PACE_S = 0.1  # an order every 100 ms
# A task the killed Celery worker held waits in Redis for the visibility timeout (an
# hour): its workflow publishes it again after this.
PROCESSING_TIMEOUT = "PT5S"
BACK_S = 60  # a killed process answers again within this
# What a clean stop may print above INFO: supervisord saying why it stops, and the dev
# server's own lines as it stops last, mid-flight: its services close while a workflow task
# moves off a stopped worker's sticky queue or a write is under way (seen under load:
# `level=ERROR msg="service failures" operation=AddWorkflowTask ... error="task queue
# closed"`, "Persistent store operation failure"); what they were doing is in its store and
# resumes when it starts again. Every line of ours stays at INFO.
STOPPING = re.compile(
    r"received SIGINT indicating exit request|^temporal +\| time=\S+ level=(ERROR|WARN) "
)
NOISE = re.compile(r"\b(WARN|WARNING|ERROR|CRITICAL|FATAL)\b|Traceback|make: \*\*\*")


@dataclass(frozen=True)
class Attempt:
    start: float
    end: float
    order_id: str | None  # None: no 201
    error: str = ""


@pytest.fixture
async def layout(stack: Stack) -> AsyncIterator[RunLayout]:
    stack.overrides["PROCESSING_TIMEOUT"] = PROCESSING_TIMEOUT
    run = RunLayout(stack)
    yield run
    run.stop()


async def post_orders(user: ApiUser, attempts: list[Attempt], stop: asyncio.Event) -> None:
    """One order every PACE_S until `stop`, each attempt kept with its outcome."""
    items = [{"product_id": 1, "quantity": 1, "price": 9.99}]
    url = f"{user.base}/orders/"
    while not stop.is_set():
        start = time.monotonic()
        try:
            async with user.session.post(url, json={"items": items}, headers=user.headers) as r:
                body = await r.json(content_type=None)
                ok = r.status == 201
                attempts.append(
                    Attempt(start, time.monotonic(), body["id"] if ok else None, str(r.status))
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            attempts.append(Attempt(start, time.monotonic(), None, repr(exc)))
        await asyncio.wait([asyncio.create_task(stop.wait())], timeout=PACE_S)


def nice_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


async def http_ok(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=1)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def tcp_open(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except OSError:
        return False
    writer.close()
    return True


async def test_each_process_sigkilled_in_turn_comes_back_and_no_order_is_refused_or_lost(
    stack: Stack, layout: RunLayout, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    make = layout.start()
    await asyncio.to_thread(layout.wait_serving)
    # A second one in the same place refuses to start: it would fight the first for ports.
    again = layout.make("make-run-again").start()
    try:
        assert again.proc is not None
        assert await asyncio.to_thread(again.proc.wait, 30) != 0
    finally:
        stop_tree(again)
    assert "make run is already running in this checkout" in again.output()
    # The API keeps its CPU, the others yield it: nice 19, in supervisord's session (one
    # autogroup, where nice counts).
    nice = {name: nice_of(pid) for name, pid in layout.pids().items()}
    assert nice.pop("api") == os.getpriority(os.PRIO_PROCESS, 0)
    assert nice.keys() == {"temporal", "pipeline", "celery"}
    assert min(nice.values()) >= 19, nice
    user = await ApiUser(http, stack.base_url).sign_up()
    pipeline = f"http://127.0.0.1:{layout.pipeline_port}/health"
    # Answering again, for those that answer anything (Celery's work below says it is back).
    serving: dict[str, Callable[[], Awaitable[bool]]] = {
        "temporal": lambda: tcp_open(layout.temporal_address),
        "api": lambda: http_ok(http, f"{stack.base_url}/health"),
        "pipeline": lambda: http_ok(http, pipeline),
    }
    attempts: list[Attempt] = []
    stop = asyncio.Event()
    poster = asyncio.create_task(post_orders(user, attempts, stop))
    api_down: tuple[float, float] | None = None
    celery_killed_at: datetime | None = None

    async def newest_processed() -> bool:
        """The newest accepted order is processed: orders flow through every process."""
        accepted = [a.order_id for a in attempts if a.order_id]
        if not accepted:
            return False
        done = await db.fetchval(
            "SELECT count(*) FROM processed_orders WHERE order_id = $1::uuid", accepted[-1]
        )
        return bool(done)

    try:
        for name in PROGRAMS:
            await eventually(newest_processed, deadline_s=BACK_S, what=f"orders flowing ({name})")
            victim = layout.pids()[name]
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            if name == "celery":
                celery_killed_at = await now(db)

            def restarted(name: str = name, victim: int = victim) -> int | None:
                pid = layout.pids().get(name)
                return pid if pid not in (None, victim) else None

            await eventually(restarted, deadline_s=BACK_S, what=f"{name} started again")
            if name in serving:
                await eventually(serving[name], deadline_s=BACK_S, what=f"{name} answering")
            if name == "api":
                api_down = (killed_at, time.monotonic())
        await eventually(newest_processed, deadline_s=BACK_S, what="orders flowing at the end")
    finally:
        stop.set()
        await poster

    assert api_down is not None
    # Refused or failed while the API itself was up: none (under honcho, all of them).
    refused = [
        a for a in attempts if a.order_id is None and (a.end < api_down[0] or a.start > api_down[1])
    ]
    assert refused == []
    accepted = [a.order_id for a in attempts if a.order_id]
    assert len(accepted) > 50, len(accepted)
    await assert_processed_exactly_once(
        db, [make], accepted, deadline_s=BACK_S, celery_killed_at=celery_killed_at
    )
    assert set(layout.pids()) == set(PROGRAMS)  # all back, none given up on

    # Ctrl-C: everything stops, nothing but INFO lines on the way, and make is interrupted
    # (as any command is by Ctrl-C) without an error of its own.
    mark = len(make.output())
    running = descendants(layout.pid)
    layout.interrupt()
    assert make.proc is not None
    code = await asyncio.to_thread(make.proc.wait, 60)
    assert code == -signal.SIGINT, make.output()[mark:]
    assert {pid: argv for pid, argv in running.items() if argv_of(pid) == argv} == {}
    said = make.output()[mark:].splitlines()
    assert [ln for ln in said if NOISE.search(ln) and not STOPPING.search(ln)] == []
