"""A role that fails with an exception nobody expected is logged with its traceback and
restarted with backoff; /ready is 503 meanwhile and reports each role's state, its
restarts and last error on the operator listener only (the public /ready shows no error
text). Real servers; the bug is planted in our own code for the duration of the test."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from pytest_aiohttp import AiohttpClient
from temporalio.testing import WorkflowEnvironment

from messaging.consumer import EventConsumer
from messaging.topology import Topology
from relay.outbox import OutboxRelay
from service import worker
from service.app import create_app
from service.settings import Role, Settings
from tests.support.faults import free_port
from tests.support.waiting import eventually

Client = TestClient[Request, Application]


class PlantedBug:
    """Makes `owner.name` raise AttributeError while `on`; counts how often it did."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.on = True
        self.raised = 0
        original: Callable[..., Any] = getattr(owner, name)

        def broken(*args: Any, **kwargs: Any) -> Any:
            if self.on:
                self.raised += 1
                raise AttributeError("'NoneType' object has no attribute 'event_id'")
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, broken)


# Where each role first calls code that can fail in a way nobody expected.
TARGETS = {
    Role.RELAY: (OutboxRelay, "_claim"),
    Role.CONSUMER: (EventConsumer, "_start"),
    Role.WORKER: (worker, "build_worker"),
}


async def ready(client: Client) -> tuple[int, dict[str, Any]]:
    resp = await client.get("/ready")
    body: dict[str, Any] = await resp.json()
    return resp.status, body


async def operator_ready(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/ready") as r:
        body: dict[str, Any] = await r.json()
        return r.status, body


@pytest.mark.parametrize("role", list(TARGETS), ids=lambda r: r.value)
async def test_a_role_that_fails_restarts_and_ready_is_503_meanwhile(
    role: Role,
    aiohttp_client: AiohttpClient,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    topology: Topology,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="service.supervision")
    owner, name = TARGETS[role]
    bug = PlantedBug(monkeypatch, owner, name)
    address = temporal_env.client.service_client.config.target_host
    operator_port = free_port()
    one_role = settings.model_copy(
        update={
            "service_roles": frozenset({role}),
            "temporal_address": address,
            "operator_port": operator_port,
        }
    )
    client = await aiohttp_client(create_app(one_role))

    async def down() -> dict[str, Any] | None:
        status, body = await operator_ready(operator_port)
        return body if status == 503 and bug.raised >= 2 else None

    body = await eventually(down, what=f"{role} failing twice, /ready 503", deadline_s=20)
    assert body["checks"][role.value] == "down"
    assert role.value in body["detail"]
    # The public /ready says the same states, and nothing of the error.
    status, public = await ready(client)
    assert (status, public["checks"], public["detail"]) == (503, body["checks"], body["detail"])
    assert "details" not in public
    assert "AttributeError" not in (await (await client.get("/ready")).text())
    state = body["details"]["roles"][role.value]
    assert state["state"] == "restarting"
    assert state["last_error"] == "AttributeError: 'NoneType' object has no attribute 'event_id'"
    tracebacks = [r for r in caplog.records if r.exc_info and role.value in r.getMessage()]
    assert tracebacks, "the failure is logged with its traceback"

    bug.on = False

    async def recovered() -> dict[str, Any] | None:
        status, body = await operator_ready(operator_port)
        return body if status == 200 and body["checks"][role.value] == "ok" else None

    body = await eventually(recovered, what=f"{role} restarted", deadline_s=20)
    state = body["details"]["roles"][role.value]
    assert state["state"] == "running"
    assert state["restarts"] >= 2
    if role is not Role.RELAY:
        assert body["checks"]["rabbitmq"] == "ok"
    else:
        assert isinstance(body["details"]["outbox_parked"], int)
        assert body["details"]["v5_fields"] is True  # no version current here: v5 may read
