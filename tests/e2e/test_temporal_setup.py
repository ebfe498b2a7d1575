"""`orders temporal setup` and `check` on a bare dev server (in memory, free ports, none of our
search attributes, its namespace at the server's 24 h retention), as an operator runs
them, and a role started against such a server: it says what is missing and how to fix
it, is not ready, and holds new orders until the namespace is set up."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.support.api import ApiUser
from tests.support.processes import ORDERS
from tests.support.stack import Stack, TemporalServer
from tests.support.temporal import start_dev_server
from tests.support.waiting import eventually
from workflows.names import SEARCH_ATTRIBUTES, workflow_id
from workflows.namespace import type_name

pytestmark = pytest.mark.slow


@pytest.fixture
async def temporal_server() -> AsyncIterator[TemporalServer]:
    """A bare server of the test's own (overrides the session's, for `stack` too)."""
    env = await start_dev_server(bare=True)
    yield TemporalServer(env)
    await env.shutdown()


def temporal(
    server: TemporalServer, tmp: Path, *argv: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`orders temporal ...` with the cluster's settings only: no database, broker or key."""
    return subprocess.run(
        [ORDERS, "temporal", *argv],
        env={
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "TEMPORAL_ADDRESS": server.address,
            **env,
        },
        cwd=tmp,  # no .env from a checkout
        capture_output=True,
        text=True,
        timeout=120,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


async def retention(client: Client, namespace: str) -> timedelta:
    desc = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    return desc.config.workflow_execution_retention_ttl.ToTimedelta()


async def registered(client: Client, namespace: str) -> dict[str, str]:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return {name: type_name(kind) for name, kind in listed.custom_attributes.items()}


DECLARED = {key.name: type_name(key.indexed_value_type) for key in SEARCH_ATTRIBUTES}


async def test_setup_twice_on_the_default_namespace_of_a_bare_server(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    client = temporal_server.client
    assert await retention(client, "default") == timedelta(hours=24)
    assert not set(DECLARED) & set(await registered(client, "default"))

    first = as_json(temporal(temporal_server, tmp_path, "setup", "--json"))
    assert first["namespace"] == "default"
    assert first["changes"] == [
        "retention of namespace default: 1d -> 30d",
        f"registered search attributes {', '.join(f'{n} ({t})' for n, t in DECLARED.items())}",
    ]
    eager = {c["name"]: c["on"] for c in first["dynamic_config"]}
    assert eager == {
        "system.enableEagerWorkflowStart=true": True,  # the tests' dev server sets it
        "system.enableActivityEagerExecution=true": None,  # no client can tell
    }

    second = temporal(temporal_server, tmp_path, "setup")
    assert second.returncode == 0, second.stderr
    assert "nothing to change" in second.stdout
    assert "system.enableEagerWorkflowStart=true" in second.stdout
    assert await retention(client, "default") == timedelta(days=30)
    assert (await registered(client, "default")).items() >= DECLARED.items()


async def test_setup_creates_a_missing_namespace_with_the_retention(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    namespace = f"orders-e2e-{uuid.uuid4().hex[:8]}"
    settings = {"TEMPORAL_NAMESPACE": namespace, "TEMPORAL_RETENTION": "P3DT12H"}
    before = temporal(temporal_server, tmp_path, "check", **settings)
    assert before.returncode == 1
    assert f"namespace '{namespace}' does not exist" in before.stdout
    assert "fix: run `orders temporal setup`" in before.stdout

    for _ in range(2):
        done = temporal(temporal_server, tmp_path, "setup", "--no-probe", **settings)
        assert done.returncode == 0, done.stderr
    assert f"created namespace {namespace} (retention 84h)" not in done.stdout  # 2nd: none
    assert "nothing to change" in done.stdout

    client = temporal_server.client
    assert await retention(client, namespace) == timedelta(days=3, hours=12)
    assert (await registered(client, namespace)).items() >= DECLARED.items()
    after = as_json(temporal(temporal_server, tmp_path, "check", "--json", **settings))
    assert after["ready"] is True
    assert after["problems"] == []


async def test_a_role_on_a_bare_server_says_what_is_missing_and_is_not_ready(
    stack: Stack, temporal_server: TemporalServer, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    service = stack.start_service(roles="api,relay")

    async def refused() -> dict[str, Any] | None:
        async with http.get(f"{stack.base_url}/ready") as resp:
            body: dict[str, Any] = await resp.json()
            return body if resp.status == 503 else None

    body = await eventually(refused, what="/ready to answer 503")
    assert body["checks"]["temporal"] == "ok"
    assert body["checks"]["temporal_setup"] == "down"
    missing = ", ".join(f"{name} ({kind})" for name, kind in DECLARED.items())

    def explained() -> bool:
        return f"search attributes not registered: {missing}" in service.output()

    await eventually(explained, what="the start-up check's ERROR line")
    assert "run `orders temporal setup` against this server" in service.output()

    # Orders are still taken; they wait in the outbox, neither started nor parked.
    user = await ApiUser(http, stack.base_url).sign_up()
    order = await user.create_order()
    handle = temporal_server.client.get_workflow_handle(workflow_id(order["id"]))

    done = temporal(temporal_server, tmp_path, "setup", "--no-probe")
    assert done.returncode == 0, done.stderr

    async def ready() -> bool:
        async with http.get(f"{stack.base_url}/ready") as resp:
            return resp.status == 200

    await eventually(ready, what="/ready once the namespace is set up", deadline_s=30)

    async def started() -> bool:
        try:
            return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError:  # not found yet
            return False

    # Its row waited with backoff: it starts at its next attempt, within a minute.
    await eventually(started, what="the waiting order's workflow to start", deadline_s=70)
    assert "parked" not in service.output()


async def test_setup_refuses_a_search_attribute_of_another_type(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    env: WorkflowEnvironment = temporal_server.env
    clash = SEARCH_ATTRIBUTES[0]
    other = "Text" if type_name(clash.indexed_value_type) != "Text" else "Keyword"
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={
                clash.name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{other.upper()}")
            },
        )
    )

    refused = temporal(temporal_server, tmp_path, "setup", "--no-probe")

    assert refused.returncode == 1
    assert f"search attribute {clash.name} is registered as {other}" in refused.stderr
    assert "search-attribute remove" in refused.stderr
    assert (await registered(env.client, "default"))[clash.name] == other
