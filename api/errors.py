"""The one error middleware: domain, validation and HTTP errors become JSON responses.

It is the only place that catches `Exception`: anything unexpected is logged with its
traceback and answered with a JSON 500, so every error body is JSON with a `detail` key.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from api.auth import MissingToken
from api.responses import error_response
from api.validation import RequestValidationError
from core.errors import (
    EmailTaken,
    Forbidden,
    IllegalTransition,
    InvalidCredentials,
    InvalidToken,
    OrderNotFound,
)

log = logging.getLogger(__name__)

BEARER = {"WWW-Authenticate": "Bearer"}
# Headers of an aiohttp HTTPException worth keeping on its JSON rendering.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def to_response(exc: Exception) -> web.Response | None:
    """The response for an error we know how to answer; None for anything else."""
    match exc:
        case RequestValidationError():
            return error_response(422, exc.errors)
        case OrderNotFound():
            return error_response(404, "order not found")
        case Forbidden():
            return error_response(403, "forbidden")
        case IllegalTransition():
            return error_response(409, str(exc))
        case EmailTaken():
            return error_response(400, "email already registered")
        case InvalidCredentials():
            return error_response(401, "incorrect email or password", headers=BEARER)
        case MissingToken():
            return error_response(401, "Not authenticated", headers=BEARER)
        case InvalidToken():
            return error_response(401, "could not validate credentials", headers=BEARER)
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
        response = to_response(exc)
        if response is None:
            log.exception("unhandled error method=%s path=%s", request.method, request.path)
            response = error_response(500, "internal server error")
        return response
