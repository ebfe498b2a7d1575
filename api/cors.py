"""CORS with aiohttp-cors on every route.

aiohttp-cors echoes the request's Origin even when configured with "*"; with a wildcard
(never combined with credentials, the settings refuse that) we answer a literal "*".
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp_cors
from aiohttp import hdrs, web

# Response headers a browser client may read.
EXPOSE_HEADERS = ("Location", "Link", "ETag", "Retry-After", "X-Request-ID")
MAX_AGE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class CorsConfig:
    allow_origins: tuple[str, ...] = ()  # none: CORS off
    allow_methods: tuple[str, ...] = ("GET", "POST", "PATCH", "OPTIONS")
    allow_headers: tuple[str, ...] = ("Authorization", "Content-Type")
    allow_credentials: bool = False


async def _literal_wildcard(request: web.Request, response: web.StreamResponse) -> None:
    if hdrs.ACCESS_CONTROL_ALLOW_ORIGIN in response.headers:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = "*"


def setup_cors(app: web.Application, config: CorsConfig) -> None:
    """Allow the configured origins on every route registered so far (call it last)."""
    origins = config.allow_origins
    if not origins:
        return
    # aiohttp-cors ships no annotations for ResourceOptions.__init__.
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=config.allow_credentials,
        expose_headers=EXPOSE_HEADERS,
        allow_headers=config.allow_headers,
        allow_methods=config.allow_methods,
        max_age=MAX_AGE_SECONDS,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        cors.add(route)
    if "*" in origins:
        app.on_response_prepare.append(_literal_wildcard)
