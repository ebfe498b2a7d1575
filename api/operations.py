"""The route table: each operation's handler and what the OpenAPI document says about it.

Routes and the document come from the same `Operation`s, so the document covers every
route. Each path is registered with and without its trailing slash (no redirects).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class PathParam:
    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class HeaderParam:
    """An optional request header the operation honours."""

    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # as documented; the other slash variant is routed too
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    status: int = 200
    response: type[BaseModel] | None = None
    response_list: bool = False  # the body is a JSON list of `response`
    content_type: str = "application/json"
    body: type[BaseModel] | None = None
    form: bool = False  # `body` arrives as form fields, not JSON
    query: type[BaseModel] | None = None
    path_params: tuple[PathParam, ...] = ()
    errors: tuple[int, ...] = ()  # error statuses, answered with a `detail` body
    also: tuple[int, ...] = ()  # other statuses answered with the `response` model
    auth: bool = False
    response_headers: tuple[tuple[str, str], ...] = ()  # (name, description)
    header_params: tuple[HeaderParam, ...] = ()
    links: tuple[tuple[str, dict[str, Any]], ...] = ()  # OpenAPI links of the success response


def path_variants(path: str) -> tuple[str, ...]:
    """`path` with and without its trailing slash."""
    if path == "/":
        return (path,)
    bare = path.rstrip("/")
    return (bare, bare + "/")


def add_routes(app: web.Application, operations: Iterable[Operation]) -> None:
    for op in operations:
        for path in path_variants(op.path):
            app.router.add_route(op.method, path, op.handler, name=None)
