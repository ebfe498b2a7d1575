"""A process's check of its namespace (workflows.setup_check) and the provisioning behind
`orders temporal setup` (workflows.provisioning), against the dev server: a namespace of the
test's own, missing until provisioned."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.support.faults import free_port
from tests.support.waiting import eventually
from workflows.names import SEARCH_ATTRIBUTES
from workflows.namespace import Requirements, inspect
from workflows.provisioning import provision
from workflows.setup_check import SetupCheck

RPC = timedelta(seconds=5)


@pytest.fixture
def needs() -> Requirements:
    return Requirements(
        f"orders-check-{uuid.uuid4().hex[:8]}", SEARCH_ATTRIBUTES, timedelta(days=2)
    )


async def test_a_missing_namespace_is_named_and_not_ready_until_provisioned(
    temporal_env: WorkflowEnvironment, needs: Requirements, caplog: pytest.LogCaptureFixture
) -> None:
    check = SetupCheck(temporal_env.client, needs, rpc_timeout=RPC, grace_seconds=0.2)

    with caplog.at_level(logging.ERROR, logger="workflows.setup_check"):
        assert await check.ready() is False
        assert not caplog.records  # a server just started may be set up in a moment

        async def reported() -> bool:
            await check.check()
            return bool(caplog.records)

        await eventually(reported, what="the ERROR once it lasts", every_s=0.1)
        await check.ready()  # asked again: said once
    [line] = [r.getMessage() for r in caplog.records]
    assert f"namespace '{needs.namespace}' does not exist" in line
    assert "run `orders temporal setup` against this server" in line
    assert check.problem is not None
    assert check.problem.startswith("Temporal namespace not set up: namespace ")

    changes = await provision(temporal_env.client, needs, rpc_timeout=RPC)

    assert changes[0] == f"created namespace {needs.namespace} (retention 2d)"
    assert await check.ready() is True  # no restart needed
    assert check.problem is None
    assert await provision(temporal_env.client, needs, rpc_timeout=RPC) == []  # idempotent


async def test_the_background_check_stops_once_set_up(
    temporal_env: WorkflowEnvironment, needs: Requirements
) -> None:
    await provision(temporal_env.client, needs, rpc_timeout=RPC)
    check = SetupCheck(temporal_env.client, needs, rpc_timeout=RPC)
    await check.run()  # returns: nothing to wait for
    assert await check.ready() is True


async def test_an_unreachable_server_is_not_known_to_be_set_up(needs: Requirements) -> None:
    """The `temporal` probe says why; this one only says it cannot vouch for the namespace."""
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    check = SetupCheck(client, needs, rpc_timeout=RPC)
    assert await check.check() is None
    assert await check.ready() is False
    assert check.problem is None  # nothing known: new orders are not held back for it


async def test_inspect_tells_missing_attributes_from_a_retention_that_differs(
    temporal_env: WorkflowEnvironment, needs: Requirements
) -> None:
    await provision(temporal_env.client, needs, rpc_timeout=RPC)
    longer = Requirements(needs.namespace, needs.search_attributes, timedelta(days=9))
    found = await inspect(temporal_env.client, longer, rpc_timeout=RPC)
    assert found.ready  # the service works; only /history/ keeps less
    assert found.retention_differs
    assert await provision(temporal_env.client, longer, rpc_timeout=RPC) == [
        f"retention of namespace {needs.namespace}: 2d -> 9d"
    ]
