"""The composition root of the service process: one aiohttp application per process.

Every process serves /health, /ready and /metrics (the details of /ready, and /metrics
when METRICS_PUBLIC is false, only on its operator listener); the roles in SERVICE_ROLES
decide what else it runs: the order API, the Temporal worker, the outbox relay, the
RabbitMQ consumer. All of them share one PostgreSQL pool and one Temporal client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Middleware
from opentelemetry.trace import TracerProvider

from api.cors import CorsConfig
from api.errors import error_middleware
from api.headers import security_headers
from api.health import setup_health
from api.keys import ACCOUNTS, HISTORY, IDEMPOTENT_ORDERS, ORDERS, THROTTLE, TOKENS
from api.metrics import MetricsConfig, MetricsExporter, metrics_middleware, setup_metrics
from api.ratelimit import RateLimitConfig, Throttle, rate_limit_middleware
from api.request_id import request_id_middleware
from api.routes import setup_api
from api.tokens import Tokens
from core.ratelimit import Policy
from service import resources
from service.keys import (
    DB_POOL,
    METRICS_EXPORTER,
    ORDER_CACHE,
    REDIS,
    SETTINGS,
    TEMPORAL,
    TEMPORAL_METRICS_PORT,
    TRACER_PROVIDER,
)
from service.operator import operator_listener
from service.settings import Role, Settings
from service.telemetry import temporal_metrics_port
from service.tracing import server_middleware
from store.ratelimit import RedisBuckets
from usecases.accounts import Accounts
from usecases.history import OrderHistory
from usecases.idempotency import IdempotentOrders
from usecases.outbox import Outbox
from usecases.passwords import Passwords
from workflows.history import WorkflowTimeline

# JSON bodies (and forms) above this get 413.
MAX_BODY_BYTES = 64 * 1024


def tokens(settings: Settings) -> Tokens:
    return Tokens(
        secret=settings.secret_key.get_secret_value(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(minutes=settings.access_token_expire_minutes),
    )


def passwords(settings: Settings) -> Passwords:
    return Passwords(
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        workers=settings.password_hash_workers,
        queue=settings.password_hash_queue,
    )


def rate_limits(settings: Settings) -> RateLimitConfig:
    return RateLimitConfig(
        enabled=settings.rate_limit_enabled,
        default=Policy("default", settings.rate_limit_capacity, settings.rate_limit_refill_rate),
        create=Policy(
            "create",
            settings.order_create_rate_limit_capacity,
            settings.order_create_rate_limit_refill_rate,
        ),
        credentials=Policy(
            "credentials", settings.auth_rate_limit_capacity, settings.auth_rate_limit_refill_rate
        ),
        failures=Policy(
            "failures",
            settings.auth_failure_rate_limit_capacity,
            settings.auth_failure_rate_limit_refill_rate,
        ),
        trusted_proxies=settings.trusted_proxies,
        ipv6_prefix=settings.rate_limit_ipv6_prefix,
    )


def cors(settings: Settings) -> CorsConfig:
    return CorsConfig(
        allow_origins=settings.cors_allow_origins,
        allow_methods=settings.cors_allow_methods,
        allow_headers=settings.cors_allow_headers,
        allow_credentials=settings.cors_allow_credentials,
    )


async def _api_usecases(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    orders = app[ORDERS]
    acquire_timeout = settings.db_acquire_timeout_seconds
    app[IDEMPOTENT_ORDERS] = IdempotentOrders(
        app[DB_POOL],
        app[ORDER_CACHE],
        acquire_timeout=acquire_timeout,
        max_pending=settings.max_pending_orders_per_user,
    )
    hashing = passwords(settings)
    app[ACCOUNTS] = Accounts(app[DB_POOL], hashing, acquire_timeout=acquire_timeout)
    source = WorkflowTimeline(app[TEMPORAL], timeout_seconds=settings.temporal_timeout_seconds)
    buckets = RedisBuckets(
        app[REDIS],
        prefix=settings.rate_limit_key_prefix,
        timeout_seconds=settings.redis_timeout_seconds,
    )
    app[THROTTLE] = Throttle(buckets, rate_limits(settings))
    app[HISTORY] = OrderHistory(
        orders, source, Outbox(app[DB_POOL]), retention=settings.temporal_retention
    )
    yield
    hashing.close()


def _middlewares(settings: Settings, tracer_provider: TracerProvider | None) -> list[Middleware]:
    """Outermost first. Whatever can fail runs inside `error_middleware`, so no request ever
    meets aiohttp's own text/plain 500. The rate limiter sits between two layers of it: the
    inner one turns a handler's errors into answers, which the limiter counts and gives its
    headers; the outer one answers anything the limiter itself raises. (The credentials
    buckets of /token/ and /register/ are counted by their handlers.)"""
    middlewares: list[Middleware] = [metrics_middleware, request_id_middleware, error_middleware]
    if Role.API in settings.service_roles and settings.rate_limit_enabled:
        middlewares += [rate_limit_middleware, error_middleware]
    if tracer_provider is not None:  # outermost: the server span covers every other middleware
        middlewares.insert(0, server_middleware(tracer_provider))
    return middlewares


def create_app(
    settings: Settings, *, tracer_provider: TracerProvider | None = None
) -> web.Application:
    """The process's app; `tracer_provider` (`service.tracing.start_from`) turns traces on."""
    roles = settings.service_roles
    app = web.Application(
        middlewares=_middlewares(settings, tracer_provider), client_max_size=MAX_BODY_BYTES
    )
    app.on_response_prepare.append(security_headers(cors=bool(settings.cors_allow_origins)))
    app[SETTINGS] = settings
    if tracer_provider is not None:
        app[TRACER_PROVIDER] = tracer_provider
    sources: tuple[str, ...] = ()
    if Role.WORKER in settings.service_roles:
        port = temporal_metrics_port(settings.temporal_metrics_port)
        if port:
            app[TEMPORAL_METRICS_PORT] = port
            sources = (f"http://127.0.0.1:{port}/metrics",)
    app[METRICS_EXPORTER] = MetricsExporter(MetricsConfig(extra_sources=sources))
    if settings.metrics_public:
        setup_metrics(app, app[METRICS_EXPORTER])
    app.cleanup_ctx.append(resources.database)
    app.cleanup_ctx.append(resources.cache)
    app.cleanup_ctx.append(resources.temporal)
    app.cleanup_ctx.append(resources.usecases)
    setup_health(app)
    if Role.API in roles:
        app[TOKENS] = tokens(settings)
        app.cleanup_ctx.append(_api_usecases)
        setup_api(app, cors(settings))
    if roles - {Role.API}:
        _add_roles(app, roles)
    if settings.operator_listen_port:  # last: up once everything it reports on is
        app.cleanup_ctx.append(operator_listener)
    return app


def _add_roles(app: web.Application, roles: frozenset[Role]) -> None:
    """The background roles; imported only where they run, so a process serving the API
    alone loads no Temporal worker, aio-pika, Celery or relay."""
    from service import roles as roles_ctx

    app.cleanup_ctx.append(roles_ctx.supervision)
    if Role.WORKER in roles:
        app.cleanup_ctx.append(roles_ctx.publisher)
        app.cleanup_ctx.append(roles_ctx.temporal_worker)
    if Role.RELAY in roles:
        app.cleanup_ctx.append(roles_ctx.outbox_relay)
    if Role.CONSUMER in roles:
        app.cleanup_ctx.append(roles_ctx.event_consumer)
