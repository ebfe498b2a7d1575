"""Parsing a request's body, form or query into a model; failures are FastAPI-shaped 422s.

The 422 body is `{"detail": [{"loc": ["body", ...], "msg": str, "type": str}]}`, the shape
existing clients parse. `error_middleware` turns `RequestValidationError` into it.
"""

from __future__ import annotations

from typing import Literal, TypedDict, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Where = Literal["body", "query", "path"]


class ErrorItem(TypedDict):
    loc: list[str | int]
    msg: str
    type: str


class RequestValidationError(Exception):
    """Input that does not fit the model; rendered as 422."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def from_pydantic(cls, exc: ValidationError, where: Where) -> RequestValidationError:
        items: list[ErrorItem] = [
            {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        return cls(items)


def validate(model: type[M], data: object, where: Where) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError.from_pydantic(exc, where) from None


async def json_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as `model`; an empty body is a missing one, bad JSON is `json_invalid`."""
    raw = await request.read()
    if not raw.strip():
        raise RequestValidationError(
            [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError.from_pydantic(exc, "body") from None


FORM = "application/x-www-form-urlencoded"


async def form_body(request: web.Request, model: type[M]) -> M:
    """`application/x-www-form-urlencoded` fields as `model` (the one encoding OAuth2's
    token endpoint takes, RFC 6749 4.3.2); any other body has no fields. Bytes that are
    not UTF-8 become U+FFFD instead of failing; a repeated field counts once (the last)."""
    raw = await request.read()
    if request.content_type != FORM:
        return validate(model, {}, "body")
    pairs = parse_qsl(raw.decode(errors="replace"), keep_blank_values=True, errors="replace")
    return validate(model, dict(pairs), "body")


def query_params(request: web.Request, model: type[M]) -> M:
    """The query string as `model`; a repeated parameter counts once (the last value)."""
    return validate(model, dict(request.query.items()), "query")
