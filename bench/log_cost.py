"""What logging costs an order under `make run`, before and after issue 19's cuts.

    python -m bench.log_cost [--orders 5000]

Each order's INFO lines (the API's, the pipeline's, Celery's), written through the
service's own handler and format (`service.logs.configure_logging`: text, INFO) to
/dev/null, timed in CPU time (`time.process_time`: repeatable on a busy machine, unlike
a rate); then the same bytes through `run/with-name`'s awk, its CPU from the kernel's
accounting of the child. "before" is what an order wrote until the cuts (7 lines: the
activity's with the SDK's context dictionary, Celery's task received and succeeded, the
consumer's hand-off); "after" what it writes now (3 lines) and the calls that are now
below the level or filtered out, which still cost a little.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

from celery.app import trace

from bench.report import Results
from core import correlation
from service.logs import configure_logging, quiet_celery_task_lines

AWK = ["awk", '{ print ENVIRON["WITH_NAME_PREFIX"] $0; fflush() }']
ACTIVITY_CONTEXT = {  # the keys and shapes the SDK's activity logger appends
    "activity_id": "1",
    "activity_type": "publish_event",
    "attempt": 1,
    "namespace": "default",
    "task_queue": "orders",
    "workflow_id": f"order-{uuid.uuid4()}",
    "workflow_run_id": str(uuid.uuid4()),
    "workflow_type": "OrderWorkflow",
}


def _order_lines(before: bool) -> Callable[[], None]:
    """One order's log calls, as the processes make them."""
    created, published = logging.getLogger("usecases.orders"), logging.getLogger("temporalio")
    dispatch, processed = logging.getLogger("processing.dispatch"), logging.getLogger("workflows")
    task, received = (
        logging.getLogger("processing.order"),
        logging.getLogger("celery.worker.strategy"),
    )
    traced = logging.getLogger("celery.app.trace")
    order, event, user = uuid.uuid4(), uuid.uuid4(), 42

    def one() -> None:
        correlation.correlation_id.set(uuid.uuid4().hex)
        created.info(
            "order created order_id=%s user_id=%s total_price=%s event_id=%s",
            order,
            user,
            "59.90",
            event,
        )
        message = "event published order_id=%s event_id=%s event_type=%s attempt=%d%s"
        args = (order, event, "new_order", 1, "")
        if before:  # INFO, the SDK's dictionary on the message and in the extras
            extra = {"temporal_activity": ACTIVITY_CONTEXT}
            published.info(f"{message} ({ACTIVITY_CONTEXT})", *args, extra=extra)
        else:
            published.debug(message, *args)
        (dispatch.info if before else dispatch.debug)(
            "order handed to celery order_id=%s event_id=%s", order, event
        )
        if received.isEnabledFor(logging.INFO):  # Celery asks once, at start
            context = {"id": str(event), "name": "process_order", "args": "()", "kwargs": "{}"}
            received.info(trace.LOG_RECEIVED, context | {"eta": None}, extra={"data": context})
        task.info("Order processed order_id=%s", order)
        success: dict[str, object] = {"id": str(event), "name": "process_order"}
        success |= {"return_value": "True"}
        success |= {"runtime": 0.0021, "args": "()", "kwargs": "{}"}
        traced.info(trace.LOG_SUCCESS, success, extra={"data": success})
        processed.info("order processed order_id=%s", order)

    return one


@contextlib.contextmanager
def _logging_to(stream: io.TextIOBase | io.StringIO, before: bool) -> Iterator[None]:
    saved = sys.stderr
    sys.stderr = stream
    strategy, traced = (
        logging.getLogger("celery.worker.strategy"),
        logging.getLogger("celery.app.trace"),
    )
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("INFO", "text")
        if not before:
            quiet_celery_task_lines()
        yield
    finally:
        sys.stderr = saved
        root.handlers[:], root.level = handlers, level
        strategy.setLevel(logging.NOTSET)
        traced.filters.clear()


def _awk_cpu(data: bytes) -> float:
    """CPU seconds run/with-name's awk spends on `data`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "WITH_NAME_PREFIX": "pipeline | "}
    subprocess.run(AWK, input=data, stdout=subprocess.DEVNULL, env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(before: bool, orders: int) -> tuple[int, int, float, float]:
    """Lines and bytes per order, and CPU microseconds per order: in the process, in awk."""
    sample = io.StringIO()
    with _logging_to(sample, before):
        _order_lines(before)()
    text = sample.getvalue()
    with open(os.devnull, "w") as sink, _logging_to(sink, before):
        one = _order_lines(before)
        started = time.process_time()
        for _ in range(orders):
            one()
        own = time.process_time() - started
    awk = _awk_cpu(text.encode() * orders)
    return text.count("\n"), len(text.encode()), own / orders * 1e6, awk / orders * 1e6


def report(orders: int, results: Results) -> None:
    """Print and record both, for `make bench` (the `cpu` part)."""
    print("\nlogging per order at INFO, as under make run (bench/log_cost.py):")
    for label, before in (("before issue 19's cuts", True), ("now", False)):
        lines, size, own, awk = measure(before, orders)
        print(f"  {label:<22} {lines} lines, {size} B, {own:.0f} us + awk {awk:.0f} us of CPU")
        if not before:
            results.add("log lines per order at INFO", lines, "")
            results.add("logging CPU per order at INFO, with awk", own + awk, "us")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    orders = parser.parse_args().orders
    for label, before in (("before", True), ("after", False)):
        lines, size, own, awk = measure(before, orders)
        sys.stdout.write(
            f"{label:<7} {lines} lines, {size} bytes an order: {own:.0f} us of the"
            f" processes' CPU + {awk:.0f} us of awk's = {own + awk:.0f} us an order\n"
        )


if __name__ == "__main__":
    main()
