"""Liveness (/health) and readiness (/ready) of the process and its dependencies.

/ready runs the process's probes (api.readiness, at most about once a second however
often it is asked): PostgreSQL or Temporal down is 503 (the service cannot take orders
through), and so is a background role that failed and waits to restart; Redis down only
degrades the cache, so it stays 200 with status "degraded".

The public /ready says each dependency's and role's state and nothing more: no error
text, no role details. The operator listener's /ready (`setup_operator_health`, on
loopback unless configured) adds `details`: each role's state, restarts and last error,
and the parked outbox rows.
"""

from __future__ import annotations

from aiohttp import web

from api.keys import READINESS
from api.operations import Operation, add_routes
from api.readiness import Report
from api.responses import json_response
from api.schemas.health import HealthOut, ReadyOut


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


def _answer(report: Report, *, details: bool) -> web.Response:
    body: dict[str, object] = {"status": report.status, "checks": report.checks}
    if details:
        body["details"] = report.details
    if report.down:
        body["detail"] = f"not ready: {', '.join(report.down)} down"
        return json_response(body, status=503)
    return json_response(body)


async def ready(request: web.Request) -> web.Response:
    return _answer(await request.app[READINESS].report(), details=False)


async def ready_with_details(request: web.Request) -> web.Response:
    return _answer(await request.app[READINESS].report(), details=True)


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

# The operator listener's: not in the public OpenAPI document.
OPERATOR_OPERATIONS = [
    OPERATIONS[0],
    Operation(
        "GET",
        "/ready",
        ready_with_details,
        "ready_with_details",
        "Dependencies' state, each role's state, restarts and last error, parked outbox rows",
        "operator",
        also=(503,),
    ),
]


def setup_health(app: web.Application) -> None:
    add_routes(app, OPERATIONS)


def setup_operator_health(app: web.Application) -> None:
    add_routes(app, OPERATOR_OPERATIONS)
