"""The OpenAPI 3.1 document, generated once at start-up from the route table's models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from api.operations import Operation
from api.schemas.errors import HTTPError, HTTPValidationError

REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "OAuth2PasswordBearer"

_ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated, or the token or credentials are invalid",
    403: "Forbidden: another user's resource",
    404: "Not found",
    408: "The request did not arrive in full within the read timeout; the connection is closed",
    409: "Conflict: an illegal status transition, or an Idempotency-Key still in flight",
    412: "Precondition failed: If-Match names a version the order no longer has",
    413: "The body is larger than 64 KiB",
    410: "Gone: past its retention period",
    422: "Validation error",
    429: "Rate limit exceeded: retry after Retry-After seconds",
    500: "Internal server error",
    503: "A required dependency is unavailable",
}


def _models(operations: Sequence[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (HTTPError, "serialization"): None,
        (HTTPValidationError, "serialization"): None,
    }
    for op in operations:
        pairs: tuple[tuple[type[BaseModel] | None, JsonSchemaMode], ...] = (
            (op.body, "validation"),
            (op.query, "validation"),
            (op.response, "serialization"),
        )
        for model, mode in pairs:
            if model is not None:
                found[(model, mode)] = None
    return list(found)


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": p.name,
            "in": "path",
            "required": True,
            "schema": p.schema,
            **({"description": p.description} if p.description else {}),
        }
        for p in op.path_params
    ]
    params += [
        {
            "name": h.name,
            "in": "header",
            "required": False,
            "schema": h.schema,
            **({"description": h.description} if h.description else {}),
        }
        for h in op.header_params
    ]
    if op.query is not None:
        schema = components[op.query.__name__]
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    return params


def _success(op: Operation) -> dict[str, Any]:
    response: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        schema = _ref(op.response)
        if op.response_list:
            schema = {"type": "array", "items": schema}
        response["content"] = {op.content_type: {"schema": schema}}
    elif op.content_type != "application/json":
        response["content"] = {op.content_type: {"schema": {"type": "string"}}}
    if op.response_headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in op.response_headers
        }
    if op.links:
        response["links"] = dict(op.links)
    return response


def _error(status: int) -> dict[str, Any]:
    model = HTTPValidationError if status == 422 else HTTPError
    response: dict[str, Any] = {
        "description": _ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": _ref(model)}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}
        }
    if status in (409, 429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return response


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": {
            **{str(s): _success(op) for s in (op.status, *op.also)},
            **{str(s): _error(s) for s in sorted({*op.errors, 500})},
        },
    }
    if params := _parameters(op, components):
        doc["parameters"] = params
    if op.body is not None:
        media = "application/x-www-form-urlencoded" if op.form else "application/json"
        doc["requestBody"] = {"required": True, "content": {media: {"schema": _ref(op.body)}}}
    if op.auth:
        doc["security"] = [{SECURITY_SCHEME: []}]
    return doc


def build_openapi(
    operations: Sequence[Operation], *, title: str, version: str, description: str = ""
) -> dict[str, Any]:
    """The whole document; every model's `$defs` are collected into `components.schemas`."""
    _, defs = models_json_schema(_models(operations), ref_template=REF)
    components: dict[str, Any] = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "oauth2",
                    "flows": {"password": {"tokenUrl": "/token/", "scopes": {}}},
                }
            },
        },
    }
