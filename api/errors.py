"""The one error middleware: domain, validation and HTTP errors become JSON responses.

It is the only place that catches `Exception`: anything unexpected is logged with its
traceback and answered with a JSON 500, so every error body is JSON with a `detail` key.
A client that went away in the middle of its request is no error of ours: it gets the
status nginx gives it, 499, which only the metrics and the access log ever see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from api.auth import MissingToken
from api.metrics import RATE_LIMITED
from api.protocol import TIMEOUT_DETAIL, BodyTimeout
from api.responses import error_response
from api.validation import RequestValidationError
from core.errors import (
    EmailTaken,
    Forbidden,
    HistoryGone,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCredentials,
    InvalidToken,
    OrderNotFound,
    PreconditionFailed,
    RateLimited,
    TooManyPendingOrders,
    Unavailable,
    UserGone,
)

log = logging.getLogger(__name__)

BEARER = {"WWW-Authenticate": "Bearer"}
CLIENT_CLOSED_REQUEST = 499
# Headers of an aiohttp HTTPException worth keeping on its JSON rendering.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


# How each error we know is answered, by its class (a subclass is answered as its nearest
# listed ancestor: `MissingToken` before `InvalidToken`, every `Unavailable` as one).
Render = Callable[[Any], web.Response]


def _fixed(status: int, detail: object, headers: dict[str, str] | None = None) -> Render:
    return lambda _exc: error_response(status, detail, headers=headers)


def _closing(status: int, detail: str) -> Render:
    def render(_exc: object) -> web.Response:
        response = error_response(status, detail)
        response.force_close()
        return response

    return render


def _pending(exc: TooManyPendingOrders) -> web.Response:
    RATE_LIMITED.labels("pending").inc()
    return error_response(429, exc.detail, headers={"Retry-After": str(exc.retry_after)})


def _http(exc: web.HTTPException) -> web.Response:
    headers = {h: exc.headers[h] for h in _KEPT_HEADERS if h in exc.headers}
    return error_response(exc.status, exc.reason, headers=headers)


_KEY_REUSED = [
    {
        "loc": ["header", "Idempotency-Key"],
        "msg": "this Idempotency-Key was used with a different request body",
        "type": "idempotency_key_reused",
    }
]
_RENDER: dict[type[Exception], Render] = {
    OrderNotFound: _fixed(404, "order not found"),
    Forbidden: _fixed(403, "forbidden"),
    EmailTaken: _fixed(400, "email already registered"),
    InvalidCredentials: _fixed(401, "incorrect email or password", BEARER),
    MissingToken: _fixed(401, "Not authenticated", BEARER),
    InvalidToken: _fixed(401, "could not validate credentials", BEARER),
    UserGone: _fixed(401, "could not validate credentials", BEARER),
    PreconditionFailed: _fixed(412, "precondition failed: the order has changed"),
    IdempotencyKeyInFlight: _fixed(
        409,
        "a request with this Idempotency-Key is still being processed",
        {"Retry-After": "1"},
    ),
    IdempotencyKeyReused: _fixed(422, _KEY_REUSED),
    Unavailable: lambda exc: error_response(503, exc.detail, headers={"Retry-After": "1"}),
    RateLimited: lambda exc: error_response(429, "rate limit exceeded", headers=exc.headers),
    TooManyPendingOrders: _pending,
    BodyTimeout: _closing(408, TIMEOUT_DETAIL),
    HistoryGone: lambda exc: error_response(410, exc.detail),
    RequestValidationError: lambda exc: error_response(422, exc.errors),
    IllegalTransition: lambda exc: error_response(409, str(exc)),
    web.HTTPException: _http,
}


def to_response(exc: Exception) -> web.Response | None:
    """The response for an error we know how to answer; None for anything else."""
    for cls in type(exc).__mro__:
        render = _RENDER.get(cls)
        if render is not None:
            return render(exc)
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are not errors
            raise
        response = to_response(exc)
        assert response is not None
        return response
    except Exception as exc:
        if isinstance(exc, ConnectionResetError) and _client_gone(request):
            log.debug(
                "client closed the connection method=%s path=%s", request.method, request.path
            )
            return error_response(CLIENT_CLOSED_REQUEST, "client closed request")
        response = to_response(exc)
        if response is None:
            log.exception("unhandled error method=%s path=%s", request.method, request.path)
            response = error_response(500, "internal server error")
        return response


def _client_gone(request: web.Request) -> bool:
    """Whether the client's connection is closed (a reset from a dependency is not this)."""
    transport = request.transport
    return transport is None or transport.is_closing()
