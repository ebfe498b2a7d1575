"""One workflow's code at the four stages of a change made with `workflow.patched`, for the
retirement test: before it, patched, the patch deprecated, the patch removed. Each waits
for `finish`; the old branch sleeps a moment (a timer), the new one does not."""

from datetime import timedelta

from temporalio import workflow

TOY = "PatchedToy"
PATCH = "toy-change"


class _Waits:
    def __init__(self) -> None:
        self._finished = False

    @workflow.signal
    def finish(self) -> None:
        self._finished = True

    async def _old(self) -> str:
        await workflow.wait_condition(lambda: self._finished)
        await workflow.sleep(timedelta(milliseconds=10))
        return "old"

    async def _new(self) -> str:
        await workflow.wait_condition(lambda: self._finished)
        return "new"


@workflow.defn(name=TOY)
class Before(_Waits):
    @workflow.run
    async def run(self) -> str:
        return await self._old()


@workflow.defn(name=TOY)
class Patched(_Waits):
    @workflow.run
    async def run(self) -> str:
        if workflow.patched(PATCH):
            return await self._new()
        return await self._old()


@workflow.defn(name=TOY)
class Deprecated(_Waits):
    @workflow.run
    async def run(self) -> str:
        workflow.deprecate_patch(PATCH)
        return await self._new()


@workflow.defn(name=TOY)
class Removed(_Waits):
    @workflow.run
    async def run(self) -> str:
        return await self._new()
