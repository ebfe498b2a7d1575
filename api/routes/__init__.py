"""The order API's routes, its OpenAPI document and Swagger UI, and CORS on every route."""

from __future__ import annotations

from aiohttp import web

from api import health
from api.cors import CorsConfig, setup_cors
from api.docs import setup_docs
from api.openapi import build_openapi
from api.operations import add_routes
from api.routes import accounts, orders

TITLE = "Orders"
VERSION = "1.0.0"
DESCRIPTION = "Order management: accounts, bearer tokens, orders and their lifecycle."


def setup_api(app: web.Application, cors: CorsConfig) -> None:
    """The routes; their use cases and tokens are under `api.keys`, set by the caller."""
    operations = [*accounts.OPERATIONS, *orders.OPERATIONS]
    add_routes(app, operations)
    document = build_openapi(
        [*health.OPERATIONS, *operations], title=TITLE, version=VERSION, description=DESCRIPTION
    )
    setup_docs(app, document)
    setup_cors(app, cors)
