"""The namespace made what the service needs (`orders temporal setup`), idempotently: a
missing namespace created, a retention that differs updated, the missing search attributes
registered (what is needed and what lacks: `workflows.namespace`). A search attribute
registered with another type is never changed (that would drop its index): it is reported,
with the fix.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows.namespace import Findings, Requirements, describe, duration, inspect

# A namespace just created answers NOT_FOUND for a moment (the server's namespace cache).
NAMESPACE_READY_WITHIN = timedelta(seconds=30)


class SetupRefused(Exception):
    """A change the server refused, or one that must be made by hand: says which and how."""


async def provision(client: Client, needs: Requirements, *, rpc_timeout: timedelta) -> list[str]:
    """Make the namespace what the service needs; what was changed (nothing: []).
    SetupRefused when the server refuses, or an attribute has another type."""
    done: list[str] = []
    found = await inspect(client, needs, rpc_timeout=rpc_timeout)
    if not found.exists:
        await _refusable(
            f"create namespace {needs.namespace!r}", _register(client, needs, rpc_timeout)
        )
        done.append(f"created namespace {needs.namespace} (retention {duration(needs.retention)})")
        found = await _served(client, needs, rpc_timeout)
    elif found.retention_differs:
        await _refusable(
            f"change the retention of namespace {needs.namespace!r}",
            _update_retention(client, needs, rpc_timeout),
        )
        was = duration(found.retention) if found.retention is not None else "unset"
        done.append(
            f"retention of namespace {needs.namespace}: {was} -> {duration(needs.retention)}"
        )
    if found.mistyped:
        raise SetupRefused(
            "; ".join(found.problems())
            + ": a type cannot be changed in place; remove the attribute (`temporal operator"
            " search-attribute remove --name NAME`, its index is lost) and run setup again"
        )
    if found.missing:
        request = AddSearchAttributesRequest(
            namespace=needs.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in found.missing
            },
        )
        names = ", ".join(describe(key) for key in found.missing)
        await _refusable(
            f"register search attributes {names}",
            client.operator_service.add_search_attributes(request, retry=True, timeout=rpc_timeout),
        )
        done.append(f"registered search attributes {names}")
    after = await inspect(client, needs, rpc_timeout=rpc_timeout)
    if not after.ready or after.retention_differs:
        problems = after.problems() or [f"retention is {after.retention}"]
        raise SetupRefused(f"the server took the changes, yet: {'; '.join(problems)}")
    return done


async def _register(client: Client, needs: Requirements, rpc_timeout: timedelta) -> None:
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=needs.namespace,
                workflow_execution_retention_period=Duration(
                    seconds=int(needs.retention.total_seconds())
                ),
            ),
            retry=True,
            timeout=rpc_timeout,
        )
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:  # another setup just made it
            raise


async def _update_retention(client: Client, needs: Requirements, rpc_timeout: timedelta) -> None:
    ttl = Duration(seconds=int(needs.retention.total_seconds()))
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=needs.namespace, config=NamespaceConfig(workflow_execution_retention_ttl=ttl)
        ),
        retry=True,
        timeout=rpc_timeout,
    )


async def _served(client: Client, needs: Requirements, rpc_timeout: timedelta) -> Findings:
    """The findings of a namespace just created, once the server serves it."""
    deadline = time.monotonic() + NAMESPACE_READY_WITHIN.total_seconds()
    while not (found := await inspect(client, needs, rpc_timeout=rpc_timeout)).exists:
        if time.monotonic() > deadline:
            raise SetupRefused(f"namespace {needs.namespace!r} was created but is not served")
        await asyncio.sleep(0.25)
    return found


async def _refusable(what: str, call: Awaitable[object]) -> None:
    """Await `call`; a refusal becomes SetupRefused saying what and what to do."""
    try:
        await call
    except RPCError as exc:
        hint = ""
        if exc.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            hint = (
                ": this identity may not administer the namespace (on Temporal Cloud, create "
                "namespaces and search attributes with tcld or the Cloud UI)"
            )
        raise SetupRefused(
            f"the server refused to {what} ({exc.status.name}: {exc}){hint}"
        ) from exc
