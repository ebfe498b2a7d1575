"""CORS from settings, with aiohttp-cors on every route.

aiohttp-cors echoes the request's Origin even when configured with "*"; with a wildcard
(never combined with credentials, the settings refuse that) we answer a literal "*".
"""

from __future__ import annotations

import aiohttp_cors
from aiohttp import hdrs, web

from service.settings import Settings

# Response headers a browser client may read.
EXPOSE_HEADERS = ("Location", "Link", "ETag", "Retry-After", "X-Request-ID")
MAX_AGE_SECONDS = 600


async def _literal_wildcard(request: web.Request, response: web.StreamResponse) -> None:
    if hdrs.ACCESS_CONTROL_ALLOW_ORIGIN in response.headers:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = "*"


def setup_cors(app: web.Application, settings: Settings) -> None:
    """Allow the configured origins on every route registered so far (call it last)."""
    origins = settings.cors_allow_origins
    if not origins:
        return
    # aiohttp-cors ships no annotations for ResourceOptions.__init__.
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=settings.cors_allow_credentials,
        expose_headers=EXPOSE_HEADERS,
        allow_headers=settings.cors_allow_headers,
        allow_methods=settings.cors_allow_methods,
        max_age=MAX_AGE_SECONDS,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        cors.add(route)
    if "*" in origins:
        app.on_response_prepare.append(_literal_wildcard)
