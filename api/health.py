"""Liveness (/health) and readiness (/ready) of the process and its dependencies.

/ready runs the process's probes (api.readiness): PostgreSQL or Temporal down is 503 (the
service cannot take orders through), and so is a background role that failed and waits
to restart; Redis down only degrades the cache, so it stays 200 with status "degraded".
A process with background roles adds `details`: each role's state, parked outbox rows.
"""

from __future__ import annotations

from aiohttp import web

from api.keys import READINESS
from api.operations import Operation, add_routes
from api.responses import json_response
from api.schemas.health import HealthOut, ReadyOut


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    report = await request.app[READINESS].report()
    body: dict[str, object] = {"status": report.status, "checks": report.checks}
    if report.details:
        body["details"] = report.details
    if report.down:
        body["detail"] = f"not ready: {', '.join(report.down)} down"
        return json_response(body, status=503)
    return json_response(body)


OPERATIONS = [
    Operation(
        "GET", "/health", health, "health", "The process is alive", "health", response=HealthOut
    ),
    Operation(
        "GET",
        "/ready",
        ready,
        "ready",
        "Dependencies' state (Redis down: degraded)",
        "health",
        response=ReadyOut,
        also=(503,),
    ),
]


def setup_health(app: web.Application) -> None:
    add_routes(app, OPERATIONS)
