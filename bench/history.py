"""History per order: the events and bytes the Temporal server stores for each order.

Two sources. The burst's own orders (`sample`): the server's description of a sample of
their workflows just after the burst, each processed and still open (waiting for its
payment), `history_length` and `history_size_bytes` as the server counts them once
no workflow task is pending. And the
replay corpus of the version the code runs (`corpus`, tests/histories/v<N>/): each
recorded happy path to its end (processed, paid, shipped), its events and the encoded
size of its `History`; the paths' payloads are the tests', about the size of the
bench's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowHistory

from bench.report import Results, Target
from tests.histories import corpus
from workflows.names import workflow_id

SAMPLE = 50  # workflows described after a burst
SETTLE_SECONDS = 10.0  # the most a sampled workflow's pending workflow task is waited for
EVENTS_TARGET = Target("<= 10", at_most=10)  # issue 19: a new order, start to processed
# The corpus's common closed path (its others are the fault paths: an order never processed
# republishes on every processing timeout, and expires or is paid after many of them).
PATHS = ("shipped_and_processed",)


@dataclass(frozen=True, slots=True)
class Size:
    events: float
    bytes: float


async def _settled(client: Client, order_id: uuid.UUID) -> Size:
    """The workflow's history once no workflow task is pending (at most SETTLE_SECONDS)."""
    handle = client.get_workflow_handle(workflow_id(order_id))
    end = time.monotonic() + SETTLE_SECONDS
    while True:
        info = (await handle.describe()).raw_description
        if not info.HasField("pending_workflow_task") or time.monotonic() > end:
            execution = info.workflow_execution_info
            return Size(execution.history_length, execution.history_size_bytes)
        await asyncio.sleep(0.1)


async def _describe(address: str, order_ids: Sequence[uuid.UUID]) -> list[Size]:
    client = await Client.connect(address)
    return [await _settled(client, order_id) for order_id in order_ids]


def sample(address: str, order_ids: Sequence[uuid.UUID], label: str, results: Results) -> None:
    """Print and record the median history of up to SAMPLE of the burst's orders."""
    if not order_ids:
        return
    step = max(1, len(order_ids) // SAMPLE)
    sizes = asyncio.run(_describe(address, order_ids[::step][:SAMPLE]))
    events = statistics.median(s.events for s in sizes)
    size = statistics.median(s.bytes for s in sizes)
    print(
        f"\nhistory per order [{label}], {len(sizes)} of the burst's workflows, processed and"
        f" open: {events:.0f} events, {size:,.0f} bytes (medians)"
    )
    name = f"history events per order, processed and open [{label}]"
    results.add(name, events, "", target=EVENTS_TARGET)
    results.add(f"history bytes per order, processed and open [{label}]", size, "B")


def recorded(path: Path) -> Size:
    """The events and encoded size of one recorded history."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    return Size(len(history.events), History(events=history.events).ByteSize())


def closed(results: Results, folder: Path | None = None) -> None:
    """Print and record the closed paths of the running version's replay corpus."""
    folder = folder or corpus.folder()
    paths = [folder / f"{name}.json" for name in PATHS]
    found = {p.stem: recorded(p) for p in paths if p.exists()}
    shown = ", ".join(f"{n} {s.events:.0f} events {s.bytes:,.0f} B" for n, s in found.items())
    print(f"\nhistory of a closed order, the replay corpus {folder.name}: {shown}")
    for name, size in found.items():
        results.add(f"history events at close, {name}", size.events, "")
        results.add(f"history bytes at close, {name}", size.bytes, "B")
