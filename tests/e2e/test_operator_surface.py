"""The pipeline process as `make run` starts it (`orders serve --roles worker,relay,consumer
--port ...`, no HTTP_HOST): both its listeners are on loopback; its public /ready says
states only; the operator listener has each role's details and, with METRICS_PUBLIC=false,
the only /metrics, the Temporal SDK's series included (what the benchmark reads)."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.support.faults import free_port
from tests.support.processes import service, wait_http_ok
from tests.support.sockets import listening_hosts
from tests.support.stack import Stack
from tests.support.waiting import eventually

PIPELINE_ROLES = "worker,relay,consumer"


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def test_the_pipeline_listens_on_loopback_and_details_are_for_operators_only(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    port, operator_port = free_port(), free_port()
    env = {k: v for k, v in stack.env().items() if k != "HTTP_HOST"}  # as make run leaves it
    env.update(HTTP_PORT=str(port), OPERATOR_PORT=str(operator_port), METRICS_PUBLIC="false")
    proc = service(env, stack.tmp, roles=PIPELINE_ROLES, name="pipeline").start()
    stack.processes.append(proc)
    public, operator = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{operator_port}"
    wait_http_ok(f"{public}/health", deadline_s=60, proc=proc)
    wait_http_ok(f"{operator}/health", deadline_s=10, proc=proc)
    assert listening_hosts(port) == {"127.0.0.1"}
    assert listening_hosts(operator_port) == {"127.0.0.1"}

    async def all_running() -> dict[str, Any] | None:
        async with http.get(f"{operator}/ready") as resp:
            body: dict[str, Any] = await resp.json()
        states = {name: role["state"] for name, role in body["details"]["roles"].items()}
        return (
            body if resp.status == 200 and set(PIPELINE_ROLES.split(",")) <= set(states) else None
        )

    body = await eventually(all_running, what="every role running", deadline_s=60)
    roles = body["details"]["roles"]
    assert {roles[name]["state"] for name in PIPELINE_ROLES.split(",")} == {"running"}
    assert body["details"]["outbox_parked"] == 0
    async with http.get(f"{public}/ready") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok", "checks": body["checks"]}

    assert (await _get(http, f"{public}/metrics"))[0] == 404  # METRICS_PUBLIC=false
    status, text = await _get(http, f"{operator}/metrics")
    assert status == 200
    assert "orders_outbox_rows" in text
    assert "temporal_" in text  # the worker's SDK series, appended
