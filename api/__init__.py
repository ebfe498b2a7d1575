"""The HTTP edge of Orders: aiohttp routes, validation, auth, errors and the OpenAPI document.

Handlers are thin: they parse and validate with the pydantic models of `api.schemas`
(one module per resource), call one use case, and serialize with the core's codec.
Domain errors become HTTP responses in one place, `api.errors.error_middleware`.
"""
