"""The request id: taken from `X-Request-ID` (or made), echoed back, and bound as the
correlation id that logs and the order's outbox rows carry from here on."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from core import correlation

HEADER: Final = "X-Request-ID"


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = correlation.accept(request.headers.get(HEADER))
    token = correlation.correlation_id.set(rid)
    try:
        response = await handler(request)
    finally:
        correlation.correlation_id.reset(token)
    response.headers[HEADER] = rid
    return response
