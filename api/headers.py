"""Headers every response gets: no MIME sniffing, no storing of user data, Vary on CORS.

`Cache-Control: no-store` goes on every response but the public documents (Swagger UI,
its assets, the OpenAPI document), so a token, an order or an account never lands in a
shared or browser cache (RFC 6749 5.1 asks it of the token endpoint). With CORS on, the
answer depends on the request's `Origin`, so caches are told with `Vary: Origin`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

PUBLIC_PATHS = frozenset({"/docs", "/openapi.json"})
PUBLIC_PREFIXES = ("/docs/",)

Hook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def _public(path: str) -> bool:
    return path.rstrip("/") in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def security_headers(*, cors: bool) -> Hook:
    async def add(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if not _public(request.path):
            headers[hdrs.CACHE_CONTROL] = "no-store"
        if cors:
            vary = [v.strip() for v in headers.get(hdrs.VARY, "").split(",") if v.strip()]
            if "origin" not in (v.lower() for v in vary):
                headers[hdrs.VARY] = ", ".join([*vary, "Origin"])

    return add
