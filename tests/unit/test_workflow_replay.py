"""Recorded OrderWorkflow histories replay against today's code: a non-deterministic
change to the workflow fails here. Re-record with `python -m tests.histories.record`."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.order import OrderWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_the_recorded_scenarios_are_there() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "shipped_and_processed",
        "expired_unpaid",
        "paid_before_expiry",
        "publish_retried",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=[OrderWorkflow], workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None
