"""Temporal servers for tests, from the venv's binaries (no download), with our search
attributes registered."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from workflows.names import SEARCH_ATTRIBUTES


def venv_bin(name: str) -> str:
    """A program installed in this virtualenv's bin/ (temporal, temporal-test-server)."""
    bin_dir = Path(sys.executable).parent
    found = shutil.which(name, path=str(bin_dir)) or shutil.which(name, path=f"{sys.prefix}/bin")
    assert found, f"{name} is not installed in the venv (pip install -e '.[dev]')"
    return found


# As temporal-dev/start.sh runs it: eager workflow start and eager activities on.
DEV_SERVER_ARGS = (
    "--dynamic-config-value",
    "system.enableEagerWorkflowStart=true",
    "--dynamic-config-value",
    "system.enableActivityEagerExecution=true",
)


async def start_dev_server() -> WorkflowEnvironment:
    """A Temporal dev server (in memory) on a free port."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_bin("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=list(DEV_SERVER_ARGS),
    )


async def start_time_skipping_server() -> WorkflowEnvironment:
    """The time-skipping test server; it has no flag for search attributes, so add them."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_bin("temporal-test-server")
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
                for key in SEARCH_ATTRIBUTES
            },
        )
    )
    return env
