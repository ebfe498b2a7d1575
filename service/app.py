"""The composition root of the service process: one aiohttp application per process.

Every process serves /health, /ready (and later /metrics); the roles in SERVICE_ROLES
decide what else it runs: the order API, the Temporal worker, the outbox relay, the
RabbitMQ consumer. All of them share one PostgreSQL pool and one Temporal client.
"""

from __future__ import annotations

from aiohttp import web

from api.errors import error_middleware
from api.health import setup_health
from api.request_id import request_id_middleware
from api.routes import setup_api
from service import resources
from service import roles as roles_ctx
from service.keys import PASSWORDS, SETTINGS
from service.settings import Role, Settings
from usecases.passwords import Passwords


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[request_id_middleware, error_middleware], client_max_size=256 * 1024
    )
    app[SETTINGS] = settings
    app[PASSWORDS] = Passwords()
    app.cleanup_ctx.append(resources.database)
    app.cleanup_ctx.append(resources.cache)
    app.cleanup_ctx.append(resources.temporal)
    setup_health(app)
    roles = settings.service_roles
    if Role.API in roles:
        setup_api(app, settings)
    if Role.WORKER in roles:
        app.cleanup_ctx.append(roles_ctx.publisher)
        app.cleanup_ctx.append(roles_ctx.temporal_worker)
    if Role.RELAY in roles:
        app.cleanup_ctx.append(roles_ctx.outbox_relay)
    if Role.CONSUMER in roles:
        app.cleanup_ctx.append(roles_ctx.event_consumer)
    return app
