"""The namespace the service needs, and what a server's lacks of it: it exists, keeps a
closed workflow's history for the retention asked, and has every search attribute the
workflows declare (`workflows.names.SEARCH_ATTRIBUTES`).

`inspect` only reads (each role's start-up check, `orders temporal check`);
`workflows.provisioning` makes the namespace so (`orders temporal setup`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

FIX = "run `orders temporal setup` against this server"


def type_name(indexed_value_type: int) -> str:
    """A search attribute type as the Temporal CLI and UI name it: Int, Keyword, KeywordList."""
    name = IndexedValueType.Name(IndexedValueType.ValueType(indexed_value_type))
    name = name.removeprefix("INDEXED_VALUE_TYPE_")
    return "".join(part.capitalize() for part in name.split("_"))


def describe(key: SearchAttributeKey[Any]) -> str:
    return f"{key.name} ({type_name(key.indexed_value_type)})"


def duration(value: timedelta) -> str:
    """30d, 36h, 90s: how TEMPORAL_RETENTION is written."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Requirements:
    namespace: str
    search_attributes: tuple[SearchAttributeKey[Any], ...]
    retention: timedelta


@dataclass(frozen=True, slots=True)
class Findings:
    needs: Requirements
    exists: bool
    retention: timedelta | None = None  # the namespace's, when it exists
    missing: tuple[SearchAttributeKey[Any], ...] = ()
    mistyped: tuple[tuple[SearchAttributeKey[Any], str], ...] = ()  # with the type it has

    @property
    def ready(self) -> bool:
        """What the service cannot work without (the retention only shortens /history/)."""
        return self.exists and not self.missing and not self.mistyped

    @property
    def retention_differs(self) -> bool:
        return self.exists and self.retention != self.needs.retention

    def problems(self) -> list[str]:
        if not self.exists:
            return [f"namespace {self.needs.namespace!r} does not exist"]
        problems = []
        if self.missing:
            names = ", ".join(describe(key) for key in self.missing)
            problems.append(f"search attributes not registered: {names}")
        problems.extend(
            f"search attribute {key.name} is registered as {has}, the workflows need "
            f"{type_name(key.indexed_value_type)}"
            for key, has in self.mistyped
        )
        return problems


async def inspect(client: Client, needs: Requirements, *, rpc_timeout: timedelta) -> Findings:
    """What the namespace lacks; raises RPCError (or RuntimeError) when the server does not
    answer. A namespace the server does not serve yet counts as missing."""
    try:
        desc = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=needs.namespace), timeout=rpc_timeout
        )
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=needs.namespace), timeout=rpc_timeout
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Findings(needs, exists=False)
        raise
    registered = dict(listed.custom_attributes)
    wanted = needs.search_attributes
    return Findings(
        needs,
        exists=True,
        retention=desc.config.workflow_execution_retention_ttl.ToTimedelta(),
        missing=tuple(key for key in wanted if key.name not in registered),
        mistyped=tuple(
            (key, type_name(registered[key.name]))
            for key in wanted
            if key.name in registered and registered[key.name] != int(key.indexed_value_type)
        ),
    )
