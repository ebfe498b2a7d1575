"""Typed keys for the resources the composition root opens and shares between roles.

The API's own keys (its use cases, tokens, readiness) are in `api.keys`; the order use
cases every role shares are `api.keys.ORDERS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from opentelemetry.trace import TracerProvider
from temporalio.client import Client

from api.metrics import MetricsExporter
from service.settings import Settings
from service.supervision import Supervisor
from store.cache import OrderCache
from workflows.client import TemporalConnection
from workflows.setup_check import SetupCheck

if TYPE_CHECKING:  # the API process imports neither aio-pika nor the Temporal worker
    from messaging.publisher import Publisher
    from service.worker import WorkerRunner

SETTINGS = web.AppKey("settings", Settings)
DB_POOL = web.AppKey("db_pool", asyncpg.Pool)
ORDER_CACHE = web.AppKey("order_cache", OrderCache)
REDIS = web.AppKey("redis", aioredis.Redis)
TEMPORAL = web.AppKey("temporal_client", Client)
# How every client of this process reaches Temporal (the worker connects its own with it).
TEMPORAL_CONNECTION = web.AppKey("temporal_connection", TemporalConnection)
TEMPORAL_SETUP = web.AppKey("temporal_setup", SetupCheck)  # the namespace checked at start
PUBLISHER: web.AppKey[Publisher] = web.AppKey("publisher")
TEMPORAL_METRICS_PORT = web.AppKey("temporal_metrics_port", int)  # the worker's SDK exporter
# /metrics of this process, served by the public app and the operator listener alike.
METRICS_EXPORTER = web.AppKey("metrics_exporter", MetricsExporter)
SUPERVISOR = web.AppKey("supervisor", Supervisor)
TRACER_PROVIDER = web.AppKey("tracer_provider", TracerProvider)  # set only when tracing is on
# The WORKER role's, when it runs.
WORKER_RUNNER: web.AppKey[WorkerRunner] = web.AppKey("worker_runner")
