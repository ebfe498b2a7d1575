"""The one error middleware: domain, validation and HTTP errors become JSON responses.

It is the only place that catches `Exception`: anything unexpected is logged with its
traceback and answered with a JSON 500, so every error body is JSON with a `detail` key.
A client that went away in the middle of its request is no error of ours: it gets the
status nginx gives it, 499, which only the metrics and the access log ever see.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from api.auth import MissingToken
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
    Unavailable,
    UserGone,
)

log = logging.getLogger(__name__)

BEARER = {"WWW-Authenticate": "Bearer"}
CLIENT_CLOSED_REQUEST = 499
# Headers of an aiohttp HTTPException worth keeping on its JSON rendering.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


# Domain errors with a fixed answer: status, detail, headers.
_FIXED: dict[type[Exception], tuple[int, str, dict[str, str] | None]] = {
    OrderNotFound: (404, "order not found", None),
    Forbidden: (403, "forbidden", None),
    EmailTaken: (400, "email already registered", None),
    InvalidCredentials: (401, "incorrect email or password", BEARER),
    MissingToken: (401, "Not authenticated", BEARER),
    InvalidToken: (401, "could not validate credentials", BEARER),
    UserGone: (401, "could not validate credentials", BEARER),
    PreconditionFailed: (412, "precondition failed: the order has changed", None),
    IdempotencyKeyInFlight: (
        409,
        "a request with this Idempotency-Key is still being processed",
        {"Retry-After": "1"},
    ),
}
_KEY_REUSED = [
    {
        "loc": ["header", "Idempotency-Key"],
        "msg": "this Idempotency-Key was used with a different request body",
        "type": "idempotency_key_reused",
    }
]


def to_response(exc: Exception) -> web.Response | None:
    """The response for an error we know how to answer; None for anything else."""
    fixed = _FIXED.get(type(exc))
    if fixed is not None:
        status, detail, headers = fixed
        return error_response(status, detail, headers=headers)
    match exc:
        case Unavailable():
            return error_response(503, exc.detail, headers={"Retry-After": "1"})
        case RateLimited():
            return error_response(429, "rate limit exceeded", headers=exc.headers)
        case IdempotencyKeyReused():
            return error_response(422, _KEY_REUSED)
        case BodyTimeout():
            response = error_response(408, TIMEOUT_DETAIL)
            response.force_close()
            return response
        case HistoryGone():
            return error_response(410, exc.detail)
        case RequestValidationError():
            return error_response(422, exc.errors)
        case IllegalTransition():
            return error_response(409, str(exc))
        case web.HTTPException():
            headers = {h: exc.headers[h] for h in _KEPT_HEADERS if h in exc.headers}
            return error_response(exc.status, exc.reason, headers=headers)
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
