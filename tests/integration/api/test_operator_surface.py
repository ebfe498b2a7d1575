"""The operator surface: the public /ready runs its probes and /metrics renders about once
a second however often they are asked; /ready's details and /metrics are served by the
operator listener, bound to 127.0.0.1; /metrics on the public port can be switched off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from api import metrics
from api.readiness import CACHE_SECONDS
from store import db
from tests.support.api_client import Client, MakeClient
from tests.support.faults import free_port
from tests.support.sockets import listening_hosts
from tests.support.waiting import eventually

FLOOD = 100


class Counted:
    """Wraps `owner.name`, counting the calls that really happen."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.calls = 0
        original: Callable[..., Any] = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)


def _allowed(started: float) -> int:
    """How many computations a cache of CACHE_SECONDS may make since `started`."""
    return 1 + int((time.monotonic() - started) / CACHE_SECONDS)


async def _flood(client: Client, path: str) -> list[tuple[int, bytes]]:
    async def one() -> tuple[int, bytes]:
        resp = await client.get(path)
        return resp.status, await resp.read()

    return await asyncio.gather(*(one() for _ in range(FLOOD)))


async def test_a_flood_of_ready_runs_the_probes_about_once_a_second(
    make_client: MakeClient, temporal_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each /ready took a pooled connection, a Redis PING and a Temporal RPC."""
    pings = Counted(monkeypatch, db, "ping")
    client = await make_client(temporal_address=temporal_address)
    started = time.monotonic()
    answers = await _flood(client, "/ready")
    for _ in range(10):
        answers.append(((resp := await client.get("/ready")).status, await resp.read()))
    assert {status for status, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1
    assert 1 <= pings.calls <= _allowed(started), f"{pings.calls} probes for {len(answers)} asks"

    async def probed_again() -> bool:
        await client.get("/ready")
        return pings.calls >= 2

    await eventually(probed_again, what="the probes run again after the cache expired")


async def test_a_flood_of_metrics_renders_about_once_a_second(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = Counted(monkeypatch, metrics, "generate_latest")
    started = time.monotonic()
    answers = await _flood(client, "/metrics")
    assert {status for status, _ in answers} == {200}
    assert b"orders_http_requests_total" in answers[0][1]
    assert 1 <= renders.calls <= _allowed(started), f"{renders.calls} renders for {FLOOD}"


async def _get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


async def test_the_operator_listener_is_on_loopback_with_details_and_metrics(
    make_client: MakeClient, temporal_address: str
) -> None:
    port = free_port()
    client = await make_client(temporal_address=temporal_address, operator_port=port)
    assert listening_hosts(port) == {"127.0.0.1"}
    status, text = await _get(port, "/ready")
    assert status == 200
    assert '"details":{}' in text.replace(" ", "")  # an API process has no roles to detail
    assert (await _get(port, "/health"))[0] == 200
    status, text = await _get(port, "/metrics")
    assert status == 200
    assert "orders_http_requests_total" in text
    assert (await _get(port, "/orders/"))[0] == 404  # the API is not there
    public = await (await client.get("/ready")).json()
    assert set(public) == {"status", "checks"}
    await client.close()
    assert listening_hosts(port) == set()  # it stops with the app


async def test_metrics_on_the_public_port_can_be_switched_off(make_client: MakeClient) -> None:
    port = free_port()
    client = await make_client(metrics_public=False, operator_port=port)
    assert (await client.get("/metrics")).status == 404
    status, text = await _get(port, "/metrics")
    assert status == 200
    assert "orders_http_requests_total" in text
