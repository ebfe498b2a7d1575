"""How workflow code does I/O: one attempt as a local activity, inside the workflow task
(the common path: no activity task, no extra round trip to Temporal), and when it fails
the regular activity, retried until it succeeds (each attempt visible as the workflow's
pending activity). Every step of OrderWorkflow goes this way: publishing an event,
checking processing, expiring an unpaid order.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from workflows.log import WorkflowLog
    from workflows.policies import ACTIVITY_TIMEOUT, LOCAL_TIMEOUT, ONE_ATTEMPT, RETRY_FOREVER

In = TypeVar("In")
Out = TypeVar("Out")
Step = Callable[[Any, In], Awaitable[Out]]


async def run_step(
    step: Step[In, Out],
    arg: In,
    log: WorkflowLog,
    *,
    on_local_failure: Callable[[], None] | None = None,
) -> Out:
    """One attempt as a local activity, then the regular activity; `on_local_failure` is
    told when the first attempt failed and the regular activity takes over."""
    try:
        return await workflow.execute_local_activity_method(
            step, arg, start_to_close_timeout=LOCAL_TIMEOUT, retry_policy=ONE_ATTEMPT
        )
    except FailureError as exc:  # a local activity's failure comes unwrapped
        if isinstance(exc, ApplicationError) and exc.non_retryable:
            # It can never work: the regular activity would fail the same way.
            raise ApplicationError(f"{_name(step)}: {exc.message}", non_retryable=True) from exc
        log.warning(
            "local attempt failed, retrying as an activity step=%s error=%s", _name(step), exc
        )
        if on_local_failure is not None:
            on_local_failure()
    return await workflow.execute_activity_method(
        step, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY_FOREVER
    )


def poison(error: BaseException) -> str | None:
    """Why a step can never succeed (its non-retryable failure); None if it can."""
    if isinstance(error, ActivityError):
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.non_retryable:
            return f"{error.activity_type}: {cause.message}"
    elif isinstance(error, ApplicationError) and error.non_retryable:
        return error.message  # run_step's, already named after its step
    return None


def _name(step: Step[Any, Any]) -> str:
    return getattr(step, "__name__", str(step))
