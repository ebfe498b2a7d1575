"""Parsing a request's body, form or query into a model; failures are FastAPI-shaped 422s.

The 422 body is `{"detail": [{"loc": ["body", ...], "msg": str, "type": str}]}`, the shape
existing clients parse. `error_middleware` turns `RequestValidationError` into it.

Numbers are judged on the JSON text, never on a float's rounding of it: a price of
`1.000000000000000000000000001` has 27 decimals, not 0. pydantic reads a JSON number with
a fraction or an exponent as a float, which keeps 15 significant digits exactly; so a body
whose numbers all have at most 15 digits is validated as it is (the fast path: every
order's body), and one with a longer run of digits is validated again with each such
number read as the `Decimal` it spells.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
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


# 16 digits in a row (a point may sit among them): a number a float may not hold exactly.
_LONG_NUMBER = re.compile(rb"[0-9.]{16}")


async def json_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as `model`; an empty body is a missing one, bad JSON is `json_invalid`."""
    return json_model(model, await request.read())


def json_model(model: type[M], raw: bytes) -> M:
    """JSON text as `model`, its numbers judged as written (the module's docstring)."""
    if not raw.strip():
        raise RequestValidationError(
            [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
        )
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError.from_pydantic(exc, "body") from None
    return _exactly(model, raw) if _LONG_NUMBER.search(raw) else parsed


def _exactly(model: type[M], raw: bytes) -> M:
    """`raw` (valid JSON, already valid as `model` when read with floats) validated with
    each number that has a fraction or an exponent read as a Decimal, as written."""
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):  # past the stdlib's limits (4300-digit integers)
        raise RequestValidationError(
            [{"loc": ["body"], "msg": "a number is too long to read", "type": "json_invalid"}]
        ) from None
    return validate(model, data, "body")


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
