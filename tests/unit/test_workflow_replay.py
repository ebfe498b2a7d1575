"""Recorded workflow histories, of every version this code still runs, replay against
today's code: a change to a workflow that neither bumps WORKFLOW_VERSION nor goes behind
`workflow.patched` fails here. Histories are append-only, one folder per workflow version
(`python -m tests.histories.record` adds the current version's and never rewrites a
file), until their version is retired (`--retire`: the folders below
OLDEST_REPLAYED_VERSION). Each replays in the sandbox, which refuses a non-deterministic
call, and without it, as the production worker runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.histories.corpus import HERE, folder, histories, kept_versions
from tests.histories.record import SCENARIOS, save
from workflows.alarm import Alarm
from workflows.handover import continue_as_new, upsert_phase
from workflows.legacy import LegacyRun
from workflows.lifecycle import Lifecycle
from workflows.names import OLDEST_REPLAYED_VERSION, WORKFLOW_VERSION
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.publishing import Publishing
from workflows.replay import WORKFLOWS
from workflows.sandbox import workflow_runner
from workflows.steps import poison, run_step

HISTORIES = histories()
V1 = {"shipped_and_processed", "expired_unpaid", "paid_before_expiry", "publish_retried"}


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_every_version_kept_has_its_recorded_scenarios_and_no_retired_one_is_left() -> None:
    if OLDEST_REPLAYED_VERSION == 1:
        assert {p.stem for p in folder(1).glob("*.json")} == V1
    assert {p.stem for p in folder(WORKFLOW_VERSION).glob("*.json")} == set(SCENARIOS)
    folders = {p.name for p in HERE.glob("v*") if p.is_dir()}
    assert folders == {f"v{n}" for n in kept_versions()}
    assert {p.parent.name for p in HISTORIES} == folders


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "unsandboxed"])
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_a_recorded_history_replays(path: Path, sandboxed: bool) -> None:
    runner = workflow_runner(sandboxed=sandboxed)
    replayer = Replayer(workflows=list(WORKFLOWS), workflow_runner=runner)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None


def test_replays_run_sandboxed_unless_told_otherwise() -> None:
    assert isinstance(workflow_runner(), SandboxedWorkflowRunner)
    assert isinstance(workflow_runner(sandboxed=False), UnsandboxedWorkflowRunner)


def test_the_workflows_type_hints_are_classes_not_strings_to_resolve_each_run() -> None:
    """A sandboxed run executes the workflow module again and `workflow.defn` reads these."""
    functions = [poison, run_step, continue_as_new, upsert_phase] + [
        member
        for cls in (OrderWorkflow, PublishEventWorkflow, Lifecycle, LegacyRun, Publishing, Alarm)
        for member in vars(cls).values()
        if callable(member)
    ]
    hints = {f"{f.__qualname__}.{k}": v for f in functions for k, v in f.__annotations__.items()}
    assert hints
    assert {name: hint for name, hint in hints.items() if isinstance(hint, str)} == {}


def test_the_recorder_never_overwrites_a_history(tmp_path: Path) -> None:
    path = tmp_path / "v9" / "a.json"
    assert save(path, "first")
    assert not save(path, "second")
    assert path.read_text() == "first"
