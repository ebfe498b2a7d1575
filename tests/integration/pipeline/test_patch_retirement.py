"""Retiring a `workflow.patched` branch, the three steps docs/operations.md gives, on a
workflow of the test's own against the dev server:

1. the visibility query counts the open runs that still need the old branch (their
   history lacks the patch's marker); only at zero may it go;
2. `deprecate_patch`: the code replays the histories with the marker, not those recorded
   before the patch, so the replay corpus retires their version first;
3. removal: the code replays the histories recorded since the deprecation, not those with
   the patch's (non-deprecated) marker, whose version the corpus retires in turn.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from tests.histories.corpus import histories, retire
from tests.support.waiting import eventually
from workflows.retirement import runs_needing_old_branch
from workflows.sandbox import workflow_runner

from .patched_toy import PATCH, TOY, Before, Deprecated, Patched, Removed


async def run_once(client: Client, queue: str, code: type, run_id: str) -> WorkflowHistory:
    async with Worker(client, task_queue=queue, workflows=[code]):
        handle = await client.start_workflow(TOY, id=run_id, task_queue=queue)
        await handle.signal("finish")
        await handle.result()
        return await handle.fetch_history()


async def replays(code: type, history: WorkflowHistory) -> bool:
    replayer = Replayer(workflows=[code], workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure is None


async def test_a_patch_is_retired_by_query_then_deprecation_then_removal(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = temporal_env.client
    queue = f"toy-{uuid.uuid4().hex[:12]}"
    scope = f"TaskQueue = '{queue}'"

    # A run begun before the patch, still open when the patched code is deployed.
    async with Worker(client, task_queue=queue, workflows=[Before]):
        old = await client.start_workflow(TOY, id=f"{queue}-old", task_queue=queue)

        async def started() -> bool:
            return (await old.describe()).raw_description.workflow_execution_info.history_length > 3

        await eventually(started, what="the old run's first task")
    async with Worker(client, task_queue=queue, workflows=[Patched]):
        new = await client.start_workflow(TOY, id=f"{queue}-new", task_queue=queue)

        async def counted(expected: int) -> bool:
            return (
                await runs_needing_old_branch(client, PATCH, scope, workflow_type=TOY) == expected
            )

        # 1. The old run needs the old branch; the new one recorded the marker.
        await eventually(lambda: counted(1), what="one run needing the old branch")
        await old.signal("finish")
        assert await old.result() == "old"
        await eventually(lambda: counted(0), what="no run needing the old branch")
        await new.signal("finish")
        assert await new.result() == "new"
        before, patched = await old.fetch_history(), await new.fetch_history()

    # 2. Deprecated: histories with the marker replay, those from before the patch do not.
    assert await replays(Patched, before)
    assert await replays(Deprecated, patched)
    assert not await replays(Deprecated, before)
    deprecated = await run_once(client, queue, Deprecated, f"{queue}-deprecated")

    # 3. Removed: what was recorded since the deprecation replays; the patch's markers do not.
    assert await replays(Removed, deprecated)
    assert not await replays(Removed, patched)

    # The corpus follows: one folder per version, the older ones retired before each step.
    for version, history in ((1, before), (2, patched), (3, deprecated)):
        (tmp_path / f"v{version}").mkdir()
        (tmp_path / f"v{version}" / "toy.json").write_text(history.to_json())
    for code, oldest in ((Patched, 1), (Deprecated, 2), (Removed, 3)):
        retired = retire(tmp_path, oldest)
        assert [p.name for p in retired] == ([f"v{oldest - 1}"] if oldest > 1 else [])
        kept = histories(tmp_path, oldest, 3)
        assert len(kept) == 3 - oldest + 1
        for path in kept:
            assert await replays(code, WorkflowHistory.from_json(path.stem, path.read_text()))
